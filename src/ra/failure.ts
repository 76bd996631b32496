import type { RefusalCause } from '../contract/refusal-cause.js';
import { Refusal } from '../contract/refusal-error.js';
import type { Reason } from '../contract/refusals.js';

/**
 * Why the RA refused. The HTTP layer alone turns a reason into a status code and problem+json;
 * the CLI and the client SDK branch on the same codes.
 */
export type PolicyReason = Reason;

export class PolicyFailure extends Refusal {
  /** Every RA refusal carries its typed cause (set by Refusal's constructor). */
  declare facts: RefusalCause;
  /** Which part of the input is at fault (e.g. "csr", "subjectAltName", "names[2]"). */
  readonly field: string | undefined;
  /** Several problems at once (e.g. every bad name), each a sentence. */
  readonly problems: Array<{ field: string; message: string }>;
  /** For the audit log and operators only: facts the caller may not learn (serials, key fingerprints). */
  readonly internalCause: string;
  /** Seconds after which the same request may succeed (renewal not yet open): sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined;
  /** The host a refused CSR asked for (its CN, else its first name), lower-cased, for the audit record. */
  subject: string | undefined;
  /** Every name the refused CSR asked for, as it asked (for operators; never told to the caller). */
  requestedNames: string[] | undefined;

  constructor(
    reason: PolicyReason,
    detail: string,
    hint: string,
    extra: {
      field?: string;
      problems?: Array<{ field: string; message: string }>;
      cause?: string;
      /** The typed cause, for the audit record and `explain`: every RA refusal has one. */
      facts: RefusalCause;
      retryAfterSeconds?: number;
    },
  ) {
    super(reason, detail, hint, extra.facts);
    this.name = 'PolicyFailure';
    this.field = extra.field;
    this.problems = extra.problems ?? [];
    this.internalCause = extra.cause ?? detail;
    this.retryAfterSeconds = extra.retryAfterSeconds;
  }

  /** Records what the refused CSR asked for, unless a layer below has already. */
  askedFor(commonName: string | null, names: readonly string[]): void {
    if (this.subject !== undefined) return;
    const asked = askedNames(commonName, names);
    this.subject = asked.subject;
    this.requestedNames = asked.names;
  }
}

/**
 * How many names a typed cause lists (the first ones): the record keeps every asked name already
 * (`details.names`, up to 100), and a cause listing three lists of 100 would not fit in its details.
 */
export const CAUSE_NAMES = 20;

/** What a CSR asked for, bounded for an audit record: the host (its CN, else its first name) and every name. */
export function askedNames(
  commonName: string | null,
  names: readonly string[],
): { subject: string | undefined; names: string[] } {
  const host = commonName ?? names[0];
  const all = commonName === null || names.includes(commonName) ? names : [commonName, ...names];
  return {
    subject: host === undefined ? undefined : host.toLowerCase().slice(0, 255),
    names: all.slice(0, 100).map((n) => n.slice(0, 255)),
  };
}
