import type { RefusalCause } from '../contract/refusal-cause.js';
import { Refusal } from '../contract/refusal-error.js';
import type { Reason } from '../contract/refusals.js';

/**
 * Why the RA refused. The HTTP layer alone turns a reason into a status code and problem+json;
 * the CLI and the client SDK branch on the same codes.
 */
export type PolicyReason = Reason;

export class PolicyFailure extends Refusal {
  /** Which part of the input is at fault (e.g. "csr", "subjectAltName", "names[2]"). */
  readonly field: string | undefined;
  /** Several problems at once (e.g. every bad name), each a sentence. */
  readonly problems: Array<{ field: string; message: string }>;
  /** For the audit log and operators only: facts the caller may not learn (serials, key fingerprints). */
  readonly internalCause: string;
  /** Seconds after which the same request may succeed (renewal not yet open): sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    reason: PolicyReason,
    detail: string,
    hint: string,
    extra: {
      field?: string;
      problems?: Array<{ field: string; message: string }>;
      cause?: string;
      facts?: RefusalCause;
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(reason, detail, hint, extra.facts);
    this.name = 'PolicyFailure';
    this.field = extra.field;
    this.problems = extra.problems ?? [];
    this.internalCause = extra.cause ?? detail;
    this.retryAfterSeconds = extra.retryAfterSeconds;
  }
}
