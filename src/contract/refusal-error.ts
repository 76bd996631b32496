/**
 * The one error every refusal is: a reason from the table in `refusals.ts`, what the caller is
 * told, and a hint. The auth and RA layers raise subclasses carrying their own facts; the HTTP
 * layer alone turns a Refusal into status, challenges and problem+json, reading the status from
 * the table.
 */
import { AnswerError } from './answer-error.js';
import type { RefusalCause } from './refusal-cause.js';
import { REFUSALS, type Reason } from './refusals.js';

export class Refusal extends AnswerError {
  readonly reason: Reason;
  /** What the caller is told: never whether a user exists, which part was wrong, or a secret. */
  readonly detail: string;
  readonly hint: string;
  /** The precise cause as data, for the audit record (`details.cause`) and `explain`. */
  facts: RefusalCause | undefined;
  /** Set by the layer that wrote the refusal's audit record, so the HTTP layer does not write a second. */
  recorded = false;

  constructor(reason: Reason, detail: string, hint: string, facts?: RefusalCause) {
    super(detail);
    this.name = 'Refusal';
    this.reason = reason;
    this.detail = detail;
    this.hint = hint;
    this.facts = facts;
  }

  get status(): number {
    return REFUSALS[this.reason].status;
  }
}
