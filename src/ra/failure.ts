/**
 * Why the RA refused. The HTTP layer alone turns a reason into a status code and problem+json;
 * the CLI and the client SDK branch on the same codes.
 */
export type PolicyReason =
  | 'csr_invalid'
  | 'name_invalid'
  | 'key_too_weak'
  | 'name_not_allowed'
  | 'enrollment_token_used_up'
  | 'request_conflict'
  | 'request_vetoed'
  | 'not_found'
  | 'not_pending'
  | 'invalid_argument'
  | 'ca_unavailable';

export class PolicyFailure extends Error {
  readonly reason: PolicyReason;
  readonly hint: string;
  /** Which part of the input is at fault (e.g. "csr", "subjectAltName", "names[2]"). */
  readonly field: string | undefined;
  /** Several problems at once (e.g. every bad name), each a sentence. */
  readonly problems: Array<{ field: string; message: string }>;

  constructor(
    reason: PolicyReason,
    detail: string,
    hint: string,
    extra: { field?: string; problems?: Array<{ field: string; message: string }> } = {},
  ) {
    super(detail);
    this.name = 'PolicyFailure';
    this.reason = reason;
    this.hint = hint;
    this.field = extra.field;
    this.problems = extra.problems ?? [];
  }
}
