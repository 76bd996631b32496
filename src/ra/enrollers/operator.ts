/** Operators (admin and operator roles, or any principal allowed to approve requests) sign what they ask for. */
import type { AuthMethod, Principal } from '../../types.js';
import type { EnrollContext, EnrollDecision, Enroller } from './enroller.js';

export const ACCOUNT_METHODS: readonly AuthMethod[] = ['basic', 'digest', 'access_token', 'api_token'];

export class OperatorEnroller implements Enroller {
  readonly kind = 'operator';
  readonly methods = ACCOUNT_METHODS;

  accepts(principal: Principal): boolean {
    return !principal.anonymous && principal.scopes.includes('requests:approve');
  }

  async authorizeSign(
    principal: Principal,
    _names: readonly string[],
    _context: EnrollContext,
  ): Promise<EnrollDecision> {
    return { kind: 'sign', decidedBy: `identity:${principal.name}`, via: 'identity' };
  }
}
