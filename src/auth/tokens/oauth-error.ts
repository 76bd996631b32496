/**
 * An OAuth 2 error (RFC 6749 §5.2) with certmaster's members: the refusal reason code, a hint for
 * the caller, and the precise cause for the audit log only. The HTTP layer picks the status.
 */
import { AnswerError } from '../../contract/answer-error.js';
import { describeCause } from '../../contract/cause-words.js';
import type { RefusalCause } from '../../contract/refusal-cause.js';
import { REFUSALS } from '../../contract/refusals.js';
import type { AuthReason } from '../failure.js';

/**
 * RFC 6749 §5.2 codes, plus `slow_down` (registered for token endpoint responses by RFC 8628
 * §3.5) for throttled attempts, which certmaster answers with 429 and Retry-After.
 */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'slow_down';

export class OAuthError extends AnswerError {
  readonly error: OAuthErrorCode;
  /** error_description: what the caller is told; never a secret or whether an account exists. */
  readonly description: string;
  readonly hint: string;
  /** The typed cause, for the audit record (`details.cause`) and `explain`; never sent to the caller. */
  readonly facts: RefusalCause;
  /** The typed cause in words, for operators only; never sent to the caller and never a secret. */
  readonly internalCause: string;
  readonly reason: AuthReason | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** Who the caller claimed to be (the user name of a password grant), for the audit log. */
  readonly claimedName: string | undefined;

  constructor(
    error: OAuthErrorCode,
    description: string,
    hint: string,
    cause: RefusalCause,
    extra: { reason?: AuthReason; retryAfterSeconds?: number; claimedName?: string } = {},
  ) {
    super(description);
    this.name = 'OAuthError';
    this.error = error;
    this.description = description;
    this.hint = hint;
    this.facts = cause;
    this.internalCause = describeCause(cause);
    this.reason = extra.reason;
    this.retryAfterSeconds = extra.retryAfterSeconds;
    this.claimedName = extra.claimedName;
  }
}

/** The status of an OAuth error, from the refusal table (slow_down is how too_many_attempts is said). */
export function oauthStatusOf(error: OAuthErrorCode): number {
  return REFUSALS[error === 'slow_down' ? 'too_many_attempts' : error].status;
}
