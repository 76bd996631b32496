/**
 * Accounts that are not operators: a host account signs the names its patterns cover and is
 * refused anything else; an account without names of its own goes through the autosign policy.
 */
import type { Principal } from '../../types.js';
import type { EnrollContext, EnrollDecision, Enroller } from './enroller.js';
import { ACCOUNT_METHODS } from './operator.js';
import { ownNamesOrAutosign } from './patterns.js';

export class HostAccountEnroller implements Enroller {
  readonly kind = 'host_account';
  readonly methods = ACCOUNT_METHODS;

  accepts(principal: Principal): boolean {
    return !principal.anonymous;
  }

  authorizeSign(
    principal: Principal,
    names: readonly string[],
    context: EnrollContext,
  ): Promise<EnrollDecision> {
    return ownNamesOrAutosign(principal, names, context);
  }
}
