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
  /**
   * The scheme is switched off, or (`plainHttp`) refused over plain HTTP from another machine;
   * `enabled` are the ones that are on; `scheme` is "unregistered" for a name no RFC registers
   * (401 scheme_unsupported).
   */
  | { code: 'scheme_disabled'; scheme: string; enabled: string[]; plainHttp?: boolean }
  /** A token lacks a scope its owner's role has (403 insufficient_scope). */
  | { code: 'scope_missing'; owner: string; scope: string; has: string[] }
  /** No account has this name; `hashed` when a Digest client sent only the userhash (RFC 7616 §3.4.4). */
  | { code: 'unknown_user'; name: string; hashed: boolean }
  /** The account exists and the password sent was wrong (Basic, or the OAuth password grant). */
  | { code: 'password_mismatch'; account: string }
  /** The account exists and its Digest response did not match: the password was wrong. */
  | { code: 'digest_response_mismatch'; account: string }
  /** The account's Digest secrets were made for another realm (RFC 7616 binds them to it). */
  | { code: 'digest_realm_changed'; account: string; madeFor: string; current: string }
  /** The client answered a Digest challenge with an algorithm this server does not offer. */
  | { code: 'digest_algorithm_not_offered'; algorithm: string; offered: string[] }
  /** The client answered a Digest challenge for another realm. */
  | { code: 'digest_realm_wrong'; expected: string }
  /** A nonce count used before (a replay), or a nonce past its lifetime (401 nonce_stale). */
  | { code: 'nonce_replayed'; account: string; nonceCount: string }
  | { code: 'nonce_expired'; account: string }
  /** No service account (OAuth client) has this id. */
  | { code: 'unknown_client'; client: string }
  /** The service account exists and the secret sent was wrong. */
  | { code: 'client_secret_mismatch'; client: string }
  /** The credentials were right; the account or service account is disabled (403 account_disabled). */
  | { code: 'account_disabled'; account: string; kind: 'user' | 'client' }
  /** The address (and account) failed too often; it must wait `seconds` (429 too_many_attempts). */
  | { code: 'throttled'; address: string; account: string | null; seconds: number }
  /** The password hasher's queue was full: the server asked the client to retry in a second. */
  | { code: 'hasher_busy' }
  /** The caller's role does not allow the action (403 forbidden). */
  | { code: 'role_lacks_scope'; account: string; scope: string }
  /**
   * A token was revoked (401 token_revoked): an API or enrollment token by its id, an access token
   * by its jti and the sign-in (refresh family) it belongs to.
   */
  | { code: 'token_revoked'; kind: 'opaque' | 'access'; token: string; at: string; family?: string }
  /** The account an API token acts for was removed (401 token_revoked). */
  | { code: 'token_owner_removed'; token: string; owner: string }
  /** A token is past its expiry (401 token_expired); `subject` is whom an access token named. */
  | { code: 'token_expired'; kind: 'opaque' | 'access'; token: string; at: string; subject?: string }
  /** An enrollment token has no uses left (403 enrollment_token_used_up). */
  | { code: 'enrollment_token_used_up'; token: string }
  /** No API or enrollment token has the hash of the one sent (401 token_invalid). */
  | { code: 'token_unknown' }
  /** An access token was signed by a key this server does not know, or no longer (401 token_invalid). */
  | { code: 'token_signing_key_unknown'; kid: string }
  /** An access token's claim (`iss`, `aud`, `typ`...) does not match this server (401 token_invalid). */
  | { code: 'token_claim_mismatch'; claim: string; why: string }
  /** An access token's signature does not verify (401 token_invalid). */
  | { code: 'token_signature_invalid' }
  /** The string is no token of ours at all, or not one that can be read (401 token_invalid). */
  | { code: 'token_malformed'; why: string }
  /**
   * The CSR's names broke the name rules (422 name_invalid); `wildcardsDisallowed` lists the
   * well-formed wildcard names refused only because `ra.allow_wildcards` is off.
   */
  | { code: 'names_invalid'; names: string[]; wildcardsDisallowed: string[] }
  /** The CSR's key is outside the accepted set (422 key_too_weak); `rule` says which rule it broke. */
  | { code: 'key_rejected'; rule: KeyRule; key: string; minRsaBits: number };

/** Which key rule a refused key broke (src/ra/key-policy.ts). */
export type KeyRule =
  | 'rsa_too_small'
  | 'rsa_too_large'
  | 'rsa_exponent'
  | 'ec_explicit_curve'
  | 'ec_curve'
  | 'ed448';

export type RefusalCauseCode = RefusalCause['code'];

/** Every code, so a record from another version with an unknown code is read as having none. */
const CODES: Readonly<Record<RefusalCauseCode, true>> = {
  certificate_held: true,
  request_pending: true,
  digest_secrets_missing: true,
  nonce_forged: true,
  scheme_disabled: true,
  scope_missing: true,
  unknown_user: true,
  password_mismatch: true,
  digest_response_mismatch: true,
  digest_realm_changed: true,
  digest_algorithm_not_offered: true,
  digest_realm_wrong: true,
  nonce_replayed: true,
  nonce_expired: true,
  unknown_client: true,
  client_secret_mismatch: true,
  account_disabled: true,
  throttled: true,
  hasher_busy: true,
  role_lacks_scope: true,
  token_revoked: true,
  token_owner_removed: true,
  token_expired: true,
  enrollment_token_used_up: true,
  token_unknown: true,
  token_signing_key_unknown: true,
  token_claim_mismatch: true,
  token_signature_invalid: true,
  token_malformed: true,
  names_invalid: true,
  key_rejected: true,
};

/** The cause in words, as the audit record's `cause` text shows it to an operator. */
export function describeCause(cause: RefusalCause): string {
  switch (cause.code) {
    case 'certificate_held':
      return `${cause.name} holds certificate ${cause.serial} (until ${cause.notAfter}) for another key`;
    case 'request_pending':
      return `a request for ${cause.name} waits for an operator since ${cause.since}`;
    case 'digest_secrets_missing':
      return `account ${cause.account} has no digest secrets (created without --digest, or sealed with another key)`;
    case 'nonce_forged':
      return 'digest nonce not issued by this server (bad MAC)';
    case 'scheme_disabled':
      return `scheme ${cause.scheme} not enabled`;
    case 'scope_missing':
      return `token lacks ${cause.scope}; has ${cause.has.join(' ') || 'none'}`;
    case 'unknown_user':
      return `unknown user ${cause.hashed ? 'hashed user name' : cause.name}`;
    case 'password_mismatch':
      return 'password mismatch';
    case 'digest_response_mismatch':
      return 'digest response mismatch (wrong password)';
    case 'digest_realm_changed':
      return `account ${cause.account}'s digest secrets were made for realm "${cause.madeFor}", not "${cause.current}"`;
    case 'digest_algorithm_not_offered':
      return `malformed Digest response: algorithm ${cause.algorithm} is not offered; use ${cause.offered.join(' or ')}`;
    case 'digest_realm_wrong':
      return `malformed Digest response: realm must be "${cause.expected}"`;
    case 'nonce_replayed':
      return `digest nonce count ${cause.nonceCount} replayed`;
    case 'nonce_expired':
      return 'digest nonce past its lifetime';
    case 'unknown_client':
      return `unknown client ${cause.client}`;
    case 'client_secret_mismatch':
      return 'client secret mismatch';
    case 'account_disabled':
      return `${cause.kind === 'client' ? 'client' : 'account'} ${cause.account} is disabled`;
    case 'throttled':
      return `throttled ${cause.address}${cause.account ? ` for ${cause.account}` : ''} for ${cause.seconds} s`;
    case 'hasher_busy':
      return 'password hasher queue full';
    case 'role_lacks_scope':
      return `role lacks ${cause.scope}`;
    case 'token_revoked':
      return cause.kind === 'access'
        ? `access token jti ${cause.token}${cause.family ? ` (family ${cause.family})` : ''} revoked at ${cause.at}`
        : `token ${cause.token} revoked at ${cause.at}`;
    case 'token_owner_removed':
      return `API token ${cause.token}: owner ${cause.owner} was removed`;
    case 'token_expired':
      return cause.kind === 'access'
        ? `access token jti ${cause.token} of ${cause.subject ?? 'undefined'} expired at ${cause.at}`
        : `token ${cause.token} expired at ${cause.at}`;
    case 'enrollment_token_used_up':
      return `enrollment token ${cause.token} used up`;
    case 'token_unknown':
      return 'no API or enrollment token has this hash';
    case 'token_signing_key_unknown':
      return `unknown or removed signing key kid ${cause.kid}`;
    case 'token_claim_mismatch':
      return `claim ${cause.claim} ${cause.why}`;
    case 'token_signature_invalid':
      return 'signature verification failed';
    case 'token_malformed':
      return cause.why;
    case 'names_invalid':
      return `names refused: ${cause.names.join(', ')}`;
    case 'key_rejected':
      return `key ${cause.key} refused (${cause.rule.replaceAll('_', ' ')})`;
  }
}

/**
 * The structured cause of an audit record's details, when it has one this version knows. Records
 * come from this server's own log (or GET /v1/audit of one), so the code is trusted to match its shape.
 */
export function causeOf(details: Record<string, unknown>): RefusalCause | null {
  const cause = details.cause;
  if (cause === null || typeof cause !== 'object') return null;
  const code = (cause as { code?: unknown }).code;
  return typeof code === 'string' && Object.hasOwn(CODES, code) ? (cause as RefusalCause) : null;
}
