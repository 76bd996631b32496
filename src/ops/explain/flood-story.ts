/**
 * The story of a request whose record was folded into a flood summary (src/audit/flood-summary.ts):
 * no record carries its id, but its id carries its time and a tag of its source (src/util/request-id.ts),
 * which find the summary of its window, source and reason.
 */
import { FLOOD_SUMMARY, MANY_SOURCES } from '../../audit/flood-summary.js';
import type { AuditFilter, AuditRecord } from '../../audit/types.js';
import { readRequestId, sourceTag } from '../../util/request-id.js';
import { adviceFor } from './advice.js';
import { type CommandContext, isRoute, printable, type RequestStory, when } from './text.js';

/** A request's record is written after its id is minted: at most this much later (a slow password check). */
const MINT_TO_RECORD_MS = 30_000;
/** Longest summary window looked through (the summariser's is 60 s). */
const LONGEST_WINDOW_MS = 5 * 60_000;
/** Pages of failures read around the id's time; a flood of many sources has thousands per window. */
const MAX_PAGES = 20;
const PAGE = 1000;

export type AuditQuery = (filter: AuditFilter) => Promise<AuditRecord[]>;

function isSummary(record: AuditRecord): boolean {
  return record.details[FLOOD_SUMMARY] === true;
}

function summaryCovers(record: AuditRecord, id: string, at: number, tag: string): boolean {
  const sample = record.details.sample_request_ids;
  if (Array.isArray(sample) && sample.includes(id)) return true;
  const first = Date.parse(String(record.details.first));
  const last = Date.parse(String(record.details.last));
  if (!(at >= first - MINT_TO_RECORD_MS && at <= last)) return false;
  // The "many sources" summary holds refusals of any address once too many were tracked.
  if (record.details.source === MANY_SOURCES) return true;
  return record.clientAddress !== null && sourceTag(record.clientAddress) === tag;
}

/**
 * The flood summaries that may hold the request `id`: those of its window whose source matches the id's
 * tag (or that list the id in their sample). Empty for an id of the older shape, which has no time.
 */
export async function floodSummariesOf(id: string, query: AuditQuery): Promise<AuditRecord[]> {
  const facts = readRequestId(id);
  if (facts === null) return [];
  const at = facts.at.getTime();
  const found: AuditRecord[] = [];
  let afterSeq: number | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const records = await query({
      since: new Date(at - 1000),
      until: new Date(at + LONGEST_WINDOW_MS + MINT_TO_RECORD_MS),
      outcome: 'failure',
      limit: PAGE,
      ...(afterSeq === undefined ? {} : { afterSeq }),
    });
    found.push(...records.filter((r) => isSummary(r) && summaryCovers(r, id, at, facts.sourceTag)));
    if (records.length < PAGE) break;
    afterSeq = records[records.length - 1]?.seq;
  }
  return found;
}

function summaryLine(summary: AuditRecord): string {
  const count = Number(summary.details.count);
  const source =
    summary.details.source === MANY_SOURCES
      ? 'many sources (too many addresses to track one by one)'
      : printable(summary.clientAddress ?? 'an unknown address', 60);
  return `one of ${count} refusals of ${printable(summary.reason ?? 'unknown', 60)} from ${source} between ${printable(String(summary.details.first), 40)} and ${printable(String(summary.details.last), 40)}, summarised (record #${summary.seq})`;
}

/** The story told from the summaries; null when there are none. */
export function floodStory(id: string, summaries: AuditRecord[], ctx: CommandContext): RequestStory | null {
  const decisive = summaries[0];
  if (decisive === undefined) return null;
  const at = readRequestId(id)?.at;
  const sentences: string[] = [];
  const shownId = printable(id, 100);
  const started = at ? ` at ${when(at)} (the time its id carries)` : '';
  if (summaries.length === 1) {
    sentences.push(`Request ${shownId} was refused${started}: it is ${summaryLine(decisive)}.`);
  } else {
    sentences.push(
      `Request ${shownId} was refused${started}: it is one of the refusals of these ${summaries.length} summaries of its window and source:`,
      ...summaries.map((s) => `  - ${summaryLine(s)}`),
    );
  }
  sentences.push(
    'A flood of refusals that name no account (or of a throttled source) keeps 5 records per source and reason a minute, then only a count: this request has no record of its own.',
  );
  if (decisive.target !== null && isRoute(decisive.target)) {
    sentences.push(`The first of them asked for ${printable(decisive.target, 200)}.`);
  }
  const advice = adviceFor(decisive, ctx);
  if (advice) {
    sentences.push(`What it means: ${advice.meaning}`);
    sentences.push(`What to do: ${advice.fix}`);
    if (advice.command) sentences.push(`Run: ${advice.command}`);
  }
  return { requestId: id, decisive, records: summaries, sentences, advice };
}
