/**
 * Accounts that are not operators: a host account signs the names its patterns cover and is
 * refused anything else; an account without names of its own goes through the autosign policy.
 */
import type { Principal } from '../../types.js';
import { AutosignEnroller } from './autosign.js';
import type { EnrollContext, EnrollDecision, Enroller } from './enroller.js';
import { ACCOUNT_METHODS } from './operator.js';
import { hasOwnNames, patternDecision } from './patterns.js';

export class HostAccountEnroller implements Enroller {
  readonly kind = 'host_account';
  readonly methods = ACCOUNT_METHODS;
  private readonly fallback = new AutosignEnroller();

  accepts(principal: Principal): boolean {
    return !principal.anonymous;
  }

  async authorizeSign(
    principal: Principal,
    names: readonly string[],
    context: EnrollContext,
  ): Promise<EnrollDecision> {
    if (hasOwnNames(principal)) return patternDecision(principal, names);
    return this.fallback.authorizeSign(principal, names, context);
  }
}
