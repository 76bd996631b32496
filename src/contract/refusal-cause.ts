/**
 * The precise cause of a refusal as data, for operators only: stored in the audit record
 * (`details.cause`, a JSON field) next to the human-readable cause, and read by `explain` by its
 * `code`, never by matching message text. Never sent to the caller; never a secret.
 */
export type RefusalCause =
  /** The name holds a valid certificate for another key (409 request_conflict). */
  | {
      code: 'certificate_held';
      name: string;
      serial: string;
      notAfter: string;
      heldKeySha256: string;
      requestedKeySha256: string;
    }
  /** Another CSR for the name waits for an operator (409 request_conflict). */
  | { code: 'request_pending'; name: string; since: string }
  /** Digest was tried on an account without Digest secrets (401 credentials_invalid). */
  | { code: 'digest_secrets_missing'; account: string }
  /** A Digest nonce this server never issued: forged, or from a replica with another key. */
  | { code: 'nonce_forged' }
  /** The scheme is switched off; `enabled` are the ones that are on (401 scheme_unsupported). */
  | { code: 'scheme_disabled'; scheme: string; enabled: string[] }
  /** A token lacks a scope its owner's role has (403 insufficient_scope). */
  | { code: 'scope_missing'; owner: string; scope: string; has: string[] };

export type RefusalCauseCode = RefusalCause['code'];

const CODES: ReadonlySet<string> = new Set<RefusalCauseCode>([
  'certificate_held',
  'request_pending',
  'digest_secrets_missing',
  'nonce_forged',
  'scheme_disabled',
  'scope_missing',
]);

/**
 * The structured cause of an audit record's details, when it has one this version knows. Records
 * come from this server's own log (or GET /v1/audit of one), so the code is trusted to match its shape.
 */
export function causeOf(details: Record<string, unknown>): RefusalCause | null {
  const cause = details.cause;
  if (cause === null || typeof cause !== 'object') return null;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && CODES.has(code) ? (cause as RefusalCause) : null;
}
