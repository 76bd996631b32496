/**
 * Enrollment tokens: sign the names the token's patterns cover (or, for a token without patterns,
 * what the autosign policy covers), and spend one of the token's uses on every issuance.
 */
import type { Clock, Principal } from '../../types.js';
import { PolicyFailure } from '../failure.js';
import type { EnrollContext, EnrollDecision, Enroller } from './enroller.js';
import { ownNamesOrAutosign } from './patterns.js';

/** The one store operation this enroller needs: a conditional decrement, false when nothing is left. */
export interface EnrollmentUsesPort {
  consumeEnrollmentUse(id: string, at: Date): Promise<boolean>;
}

export class EnrollmentTokenEnroller implements Enroller {
  readonly kind = 'enrollment_token';
  readonly methods = ['enrollment_token'] as const;

  constructor(
    private readonly uses: EnrollmentUsesPort,
    private readonly clock: Clock,
  ) {}

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

  async onIssued(principal: Principal): Promise<void> {
    // The store's decrement is conditional on uses left, expiry and revocation, so two parallel
    // requests on a one-use token cannot both get here with `true`.
    const spent =
      principal.token !== undefined &&
      (await this.uses.consumeEnrollmentUse(principal.token.id, this.clock.now()));
    if (!spent) {
      throw new PolicyFailure(
        'enrollment_token_used_up',
        'this enrollment token has no uses left, has expired, or was revoked',
        'ask an operator for a new one: `certmaster token create --enroll PATTERN`',
        { facts: { code: 'enrollment_token_used_up', token: principal.token?.id ?? 'unknown' } },
      );
    }
  }
}
