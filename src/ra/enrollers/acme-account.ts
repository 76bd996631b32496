/**
 * ACME accounts (RFC 8555): at finalize the principal's name patterns are exactly the identifiers the
 * order's challenges proved, so the account signs those names and is refused anything else. Which
 * names an account may order at all is decided earlier, by the ACME order policy (src/acme/order-policy.ts).
 */

import type { Principal } from '../../types.js';
import { CAUSE_NAMES } from '../failure.js';
import type { EnrollDecision, Enroller } from './enroller.js';
import { hasOwnNames, patternDecision } from './patterns.js';

export class AcmeAccountEnroller implements Enroller {
  readonly kind = 'acme_account';
  readonly methods = ['acme_account'] as const;

  accepts(principal: Principal): boolean {
    return !principal.anonymous && principal.method === 'acme_account';
  }

  async authorizeSign(principal: Principal, names: readonly string[]): Promise<EnrollDecision> {
    if (!hasOwnNames(principal)) {
      return {
        kind: 'refuse',
        reason: 'name_not_allowed',
        detail: `${principal.name} has proved control of no names`,
        hint: 'complete the order’s authorizations before finalizing',
        field: 'names',
        facts: {
          code: 'names_not_covered',
          principal: principal.name,
          by: 'acme_authorizations',
          allowed: [],
          outside: names.slice(0, CAUSE_NAMES),
        },
      };
    }
    return patternDecision(principal, names);
  }
}
