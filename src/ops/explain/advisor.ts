/** The shape of an advisor: what it reads about one refusal, and the advice it gives. */
import type { AuditRecord } from '../../audit/types.js';
import type { RefusalCause } from '../../contract/refusal-cause.js';
import type { Advice, CommandContext } from './text.js';

/** What an advisor reads: the record, where commands point, and the names it can show. */
export interface AdviceInput {
  record: AuditRecord;
  /** The typed cause the record carries, when it has one (src/contract/refusal-cause.ts). */
  facts: RefusalCause | null;
  ctx: CommandContext;
  cause: string;
  detail: string;
  /** The caller's account as a shell word, or NAME. */
  name: string;
  /** The caller's account as text, or "the caller". */
  shownName: string;
  /** The host acted on, when the record names one (not a route). */
  target: string | null;
  /** The host as a shell word, or NAME. */
  cn: string;
  local: string;
  any: string;
}

export type Advisor = (a: AdviceInput) => Advice;
