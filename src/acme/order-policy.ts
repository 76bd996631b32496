/**
 * Who may order what over ACME, kept apart from the protocol so it can become one more enroller of
 * the RA: an account bound by External Account Binding may order the names its enrollment token's
 * patterns cover; any other account only names the site-wide `ra.autosign` policy allows.
 */

import type { AcmeAccount, AcmeIdentifier } from '../domain/acme.js';
import { type AutosignPolicy, autosignAllows, parseAutosign } from '../domain/autosign.js';
import type { AcmeSubproblem } from './problem.js';

export interface AcmeOrderPolicy {
  /** One subproblem per identifier this account may not order; empty when all are allowed. */
  refusals(account: AcmeAccount, identifiers: AcmeIdentifier[]): AcmeSubproblem[];
}

export function namePatternOrderPolicy(autosign: () => AutosignPolicy): AcmeOrderPolicy {
  return {
    refusals(account, identifiers) {
      let allowed: AutosignPolicy;
      let source: string;
      if (account.namePatterns !== null) {
        source = `the enrollment token bound to this account (${account.namePatterns.join(', ') || 'no names'})`;
        try {
          allowed = parseAutosign(account.namePatterns.join(','));
        } catch {
          allowed = { mode: 'off' };
        }
      } else {
        allowed = autosign();
        source = 'the server policy (ra.autosign)';
      }
      return identifiers
        .filter((id) => !autosignAllows(allowed, [id.value]))
        .map((identifier) => ({
          type: 'rejectedIdentifier',
          detail: `${identifier.value} is not allowed by ${source}`,
          identifier,
        }));
    },
  };
}
