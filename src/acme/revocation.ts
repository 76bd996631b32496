/** What revokeCert may revoke and with which reason (RFC 8555 §7.6). */
import type { IssuedCertificate } from '../types.js';
import { AcmeProblem } from './problem.js';

/** RFC 5280 §5.3.1 reason codes by number, as revokeCert's `reason` gives them (RFC 8555 §7.6). */
const REVOCATION_REASON_NAMES: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
};

/** The RFC 5280 reason name for revokeCert's `reason`; alreadyRevoked or badRevocationReason otherwise. */
export function revocationReason(certificate: IssuedCertificate, reasonCode: unknown): string {
  if (certificate.revokedAt)
    throw new AcmeProblem(
      'alreadyRevoked',
      'acme_already_revoked',
      `certificate ${certificate.serial} is already revoked`,
      'nothing to do',
    );
  const reason = reasonCode === undefined ? 'unspecified' : REVOCATION_REASON_NAMES[reasonCode as number];
  if (reason === undefined) {
    throw new AcmeProblem(
      'badRevocationReason',
      'acme_malformed',
      `reason ${String(reasonCode)} is not accepted`,
      'use 0, 1, 3, 4 or 5 (RFC 5280 §5.3.1)',
    );
  }
  return reason;
}
