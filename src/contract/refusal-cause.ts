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
   * (401 scheme_unsupported), with its `length` only: an unknown scheme name may be a pasted secret.
   */
  | { code: 'scheme_disabled'; scheme: string; enabled: string[]; plainHttp?: boolean; length?: number }
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
  | { code: 'key_rejected'; rule: KeyRule; key: string; minRsaBits: number }
  /** No credentials where `route` needs them (401 credentials_missing). */
  | { code: 'credentials_absent'; route: CredentialRoute }
  /**
   * Credentials that do not parse (credentials_malformed, or invalid_client for a service account's
   * Basic header); `why` is the parser's words, which never quote a secret.
   */
  | { code: 'credentials_unparsable'; part: 'header' | 'basic' | 'digest' | 'bearer' | 'client'; why: string }
  /** A renewal or EST re-enrollment authenticated by something other than the certificate it renews (403). */
  | { code: 'certificate_required'; action: 'renewal' | 'est_reenroll'; method: string }
  /** /metrics asked from another machine while metrics.access = loopback (403 forbidden). */
  | { code: 'metrics_not_loopback'; address: string }
  /** A token asked for with scopes its creator lacks (403 insufficient_scope). */
  | { code: 'scopes_beyond_own'; scopes: string[] }
  /** An access token used before its nbf (401 token_not_yet_valid): clock skew. */
  | { code: 'token_not_yet_valid'; token: string; seconds: number }
  /** An API token whose owner is disabled (403 account_disabled). */
  | { code: 'token_owner_disabled'; token: string; owner: string }
  /** A client certificate refused over mutual TLS (401 client_certificate_invalid); `problem` says why. */
  | {
      code: 'client_certificate_rejected';
      problem: ClientCertificateProblem;
      serial: string | null;
      /** notBefore, notAfter or the revocation time, by problem. */
      at?: string;
      issuer?: string;
      revocationReason?: string;
    }
  /** No refresh token has the hash of the one sent (invalid_grant). */
  | { code: 'refresh_token_unknown' }
  /** A refresh token presented by a client it was not issued to (invalid_grant). */
  | { code: 'refresh_token_foreign'; token: string; issuedTo: string; presentedBy: string }
  /** A refresh token, or its sign-in (family), past its lifetime (invalid_grant token_expired). */
  | { code: 'refresh_token_expired'; token: string; family: string; at: string }
  /**
   * A spent refresh token presented again (invalid_grant token_revoked): `usedAt` set when it was
   * rotated before (the RFC 9700 §4.14 theft signal), else `revokedAt` (a logout or an operator).
   */
  | {
      code: 'refresh_token_reused';
      token: string;
      family: string;
      usedAt: string | null;
      revokedAt: string | null;
      revokedCount: number;
    }
  /** The account a sign-in acts for was removed or disabled since; its family is revoked (invalid_grant). */
  | { code: 'refresh_owner_gone'; account: string; family: string; removed: boolean }
  /** An OAuth request that breaks RFC 6749's form rules (invalid_request); `parameter` where one is at fault. */
  | { code: 'oauth_request_malformed'; problem: OAuthRequestProblem; parameter?: string; why?: string }
  /** A grant_type this server does not offer (unsupported_grant_type). */
  | { code: 'grant_type_unsupported'; grantType: string }
  /** A client tried a grant or act not for its kind (unauthorized_client, invalid_client). */
  | { code: 'client_not_allowed'; client: string | null; act: ClientAct }
  /** A client revoking a token issued to another client (unauthorized_client). */
  | { code: 'token_of_other_client'; token: string; issuedTo: string; caller: string }
  /** A scope asked for at the token endpoint: unknown, not granted, or too many (invalid_scope). */
  | {
      code: 'scope_refused';
      problem: 'unknown' | 'not_granted' | 'too_many';
      scope?: string;
      allowed?: string[];
    }
  /** A secret sent over plain HTTP from another machine (insecure_transport). */
  | { code: 'secret_over_plain_http'; what: string; address: string }
  // -- The RA's refusals (src/ra) ---------------------------------------------------------------
  /** The CSR could not be read, or a check of it failed; `field` names the part (400 csr_invalid). */
  | { code: 'csr_rejected'; field: string }
  /**
   * The caller may not have these names (403 name_not_allowed): `by` says what limits it (its own
   * name patterns, the names of the certificate it presented, the names its ACME account proved).
   */
  | {
      code: 'names_not_covered';
      principal: string;
      by: 'name_patterns' | 'presented_certificate' | 'acme_authorizations';
      allowed: string[];
      outside: string[];
    }
  /** A renewal of a certificate that was revoked while it was being made (409 request_conflict). */
  | { code: 'renewed_certificate_revoked'; serial: string }
  /** The caller may not renew this certificate: it is not the one presented, or not current (403). */
  | { code: 'renewal_not_permitted'; serial: string; principal: string }
  /** A renewal asked for other names than the certificate's: new ones (`no_additions`), or not exactly them (`exact`, EST). */
  | {
      code: 'renewal_names_differ';
      serial: string;
      held: string[];
      asked: string[];
      rule: 'no_additions' | 'exact';
    }
  /** A renewal after expiry: not allowed at all (`graceEnd` null), or after the grace period. */
  | { code: 'renewal_after_expiry'; serial: string; expiredAt: string; graceEnd: string | null }
  /** A renewal with the key of the certificate it renews, under ra.renew_same_key false. */
  | { code: 'renewal_key_reused'; serial: string }
  /** A renewal before its window opens (ra.renew_window). */
  | { code: 'renewal_window_closed'; serial: string; opensAt: string; window: number }
  /** The CA could not sign: its key or certificate is unusable (503 ca_unavailable). */
  | { code: 'ca_cannot_sign'; why: string }
  /** A site's pre-trigger refused the action (403 request_vetoed). */
  | { code: 'trigger_vetoed'; trigger: string; event: string; message: string }
  /** An argument of an operator's or API caller's request is wrong (400 invalid_argument). */
  | { code: 'argument_invalid'; argument: string; why: string }
  /** The thing an operator or API caller named does not exist, or is not theirs (404 not_found). */
  | { code: 'object_unknown'; kind: 'token' | 'certificate' | 'request'; id: string }
  /** An operator decision on a request that is no longer pending (409 not_pending). */
  | { code: 'request_not_pending'; request: string; state: string | null };

/** Which route needed credentials that were not sent. */
export type CredentialRoute =
  | 'api'
  | 'whoami'
  | 'est_enroll'
  | 'est_reenroll'
  | 'renewal'
  | 'anonymous_requests_off'
  | 'introspection';

/** Why a client certificate did not authenticate (src/auth/schemes/client-certificate.ts). */
export type ClientCertificateProblem =
  | 'unparsable'
  | 'foreign_issuer'
  | 'not_yet_valid'
  | 'expired'
  | 'ca_certificate'
  | 'no_client_auth'
  | 'not_on_record'
  | 'differs_from_record'
  | 'revoked';

/** What an OAuth request got wrong in its form (RFC 6749 §3.2, §2.3). */
export type OAuthRequestProblem =
  | 'parameter_missing'
  | 'parameter_repeated'
  | 'too_many_parameters'
  | 'too_long'
  | 'body_unparsable'
  | 'credentials_twice'
  | 'client_id_mismatch'
  | 'secret_without_client_id';

/** What a client was not allowed: to stay unauthenticated, to send a secret, a grant, to revoke another's token. */
export type ClientAct =
  | 'no_authentication'
  | 'public_use'
  | 'public_secret'
  | 'password_grant'
  | 'client_credentials_grant';

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
  credentials_absent: true,
  credentials_unparsable: true,
  certificate_required: true,
  metrics_not_loopback: true,
  scopes_beyond_own: true,
  token_not_yet_valid: true,
  token_owner_disabled: true,
  client_certificate_rejected: true,
  refresh_token_unknown: true,
  refresh_token_foreign: true,
  refresh_token_expired: true,
  refresh_token_reused: true,
  refresh_owner_gone: true,
  oauth_request_malformed: true,
  grant_type_unsupported: true,
  client_not_allowed: true,
  scope_refused: true,
  secret_over_plain_http: true,
  token_of_other_client: true,
  csr_rejected: true,
  names_not_covered: true,
  renewed_certificate_revoked: true,
  renewal_not_permitted: true,
  renewal_names_differ: true,
  renewal_after_expiry: true,
  renewal_key_reused: true,
  renewal_window_closed: true,
  ca_cannot_sign: true,
  trigger_vetoed: true,
  argument_invalid: true,
  object_unknown: true,
  request_not_pending: true,
};

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
