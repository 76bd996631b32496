/**
 * Why authentication or authorization failed. One error type with a stable reason code (the table
 * in DESIGN.md); the HTTP layer alone turns it into a status, challenges and problem+json.
 */
export type AuthReason =
  | 'credentials_missing'
  | 'scheme_unsupported'
  | 'credentials_malformed'
  | 'credentials_invalid'
  | 'account_disabled'
  | 'nonce_stale'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_revoked'
  | 'token_invalid'
  | 'client_certificate_invalid'
  | 'insufficient_scope'
  | 'forbidden'
  | 'too_many_attempts'
  | 'insecure_transport';

export type SchemeName = 'basic' | 'digest' | 'bearer';

export class AuthFailure extends Error {
  readonly reason: AuthReason;
  /** What the caller is told: never whether a user exists, which part was wrong, or a secret. */
  readonly detail: string;
  readonly hint: string;
  /**
   * The precise cause, for the audit log and operators only ("unknown user alice", "password
   * mismatch", "token jti X revoked at T"). Never sent to the caller; never contains a secret.
   */
  readonly internalCause: string;
  /** The scheme the caller tried, so the challenge for it can carry error attributes. */
  readonly scheme: SchemeName | undefined;
  /** For insufficient_scope: the scope the route needs. */
  readonly scope: string | undefined;
  /** For too_many_attempts: seconds until the caller may try again. */
  readonly retryAfterSeconds: number | undefined;
  /** Who the caller claimed to be, for the audit log (may be an unknown name). */
  readonly claimedName: string | undefined;

  constructor(
    reason: AuthReason,
    detail: string,
    hint: string,
    internalCause: string,
    extra: { scheme?: SchemeName; scope?: string; retryAfterSeconds?: number; claimedName?: string } = {},
  ) {
    super(detail);
    this.name = 'AuthFailure';
    this.reason = reason;
    this.detail = detail;
    this.hint = hint;
    this.internalCause = internalCause;
    this.scheme = extra.scheme;
    this.scope = extra.scope;
    this.retryAfterSeconds = extra.retryAfterSeconds;
    this.claimedName = extra.claimedName;
  }
}
