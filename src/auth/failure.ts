import { describeCause } from '../contract/cause-words.js';
import type { RefusalCause } from '../contract/refusal-cause.js';
import { Refusal } from '../contract/refusal-error.js';
import type { Reason } from '../contract/refusals.js';

/**
 * Why authentication or authorization failed. One error type with a stable reason code (the table
 * in src/contract/refusals.ts, documented in docs/refusals.md); the HTTP layer alone turns it into a status, challenges and problem+json.
 */
export type AuthReason = Reason;

export type SchemeName = 'basic' | 'digest' | 'bearer';

export class AuthFailure extends Refusal {
  /**
   * The typed cause in words, for the audit log and operators only ("unknown user alice", "password
   * mismatch", "token jti X revoked at T"). Never sent to the caller; never contains a secret.
   */
  readonly internalCause: string;
  /** The typed cause (the base class keeps it as `facts`, which may be absent there, never here). */
  declare facts: RefusalCause;
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
    /** The typed cause; the audit record shows its words (describeCause) beside it. */
    cause: RefusalCause,
    extra: {
      scheme?: SchemeName;
      scope?: string;
      retryAfterSeconds?: number;
      claimedName?: string;
    } = {},
  ) {
    super(reason, detail, hint, cause);
    this.name = 'AuthFailure';
    this.internalCause = describeCause(cause);
    this.scheme = extra.scheme;
    this.scope = extra.scope;
    this.retryAfterSeconds = extra.retryAfterSeconds;
    this.claimedName = extra.claimedName;
  }
}
