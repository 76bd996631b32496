/** One request's story: every record under its id, the decisive one, and the advice. */
import { type OutageLookup, outageRecord } from '../../audit/outage-log.js';
import type { AuditStore } from '../../audit/storage-port.js';
import type { AuditRecord } from '../../audit/types.js';
import { adviceFor, toldStatus } from './advice.js';
import { floodStory, floodSummariesOf } from './flood-story.js';
import { type CommandContext, describeMethod, isRoute, printable, type RequestStory, when } from './text.js';
import { auditRecordJson, MAX_WIRE_RECORDS } from './wire.js';

export type { RequestStory };

/** The record a request's outcome rests on: the last refusal, else the last record. */
function decisiveRecord(records: AuditRecord[]): AuditRecord | undefined {
  const failures = records.filter((r) => r.outcome === 'failure');
  return failures[failures.length - 1] ?? records[records.length - 1];
}

/** The story of one request from its records (oldest first); null when there are none. */
export function requestStory(
  requestId: string,
  records: AuditRecord[],
  ctx: CommandContext,
): RequestStory | null {
  const ordered = [...records].sort((a, b) => a.seq - b.seq);
  const decisive = decisiveRecord(ordered);
  if (decisive === undefined) return null;
  const sentences: string[] = [];
  const status = toldStatus(decisive);
  const refused = decisive.outcome === 'failure';
  if (decisive.details.outage === true) {
    sentences.push(
      `Request ${printable(requestId, 100)} was refused at ${when(decisive.at)} with HTTP 503, reason audit_unavailable: the audit log could not be written at ${when(decisive.at)}, so nothing was done and nothing else about the request was recorded${decisive.target ? ` (it asked for ${printable(decisive.target, 200)})` : ''}.`,
    );
    const advice = adviceFor(decisive, ctx);
    if (advice) {
      sentences.push(`What to do: ${advice.fix}`);
      if (advice.command) sentences.push(`Run: ${advice.command}`);
    }
    return { requestId, decisive, records: ordered, sentences, advice };
  }
  sentences.push(
    refused
      ? `Request ${printable(requestId, 100)} was refused at ${when(decisive.at)}${status ? ` with HTTP ${status}` : ''}${decisive.reason ? `, reason ${printable(decisive.reason, 60)}` : ''}.`
      : `Request ${printable(requestId, 100)} succeeded at ${when(decisive.at)} (${printable(decisive.kind, 40)}).`,
  );
  sentences.push(callerSentence(decisive));
  const method = describeMethod(decisive.method);
  const credential = decisive.credentialId ? ` (token id ${printable(decisive.credentialId, 100)})` : '';
  if (method !== null) sentences.push(`It sent ${method}${credential}.`);
  else if (credential) sentences.push(`It sent a credential${credential}.`);
  if (decisive.target !== null) {
    sentences.push(
      isRoute(decisive.target)
        ? `It asked for ${printable(decisive.target, 200)}.`
        : `It acted on ${printable(decisive.target, 200)}.`,
    );
  }
  const details = describeDetails(decisive.details);
  if (details) sentences.push(`Details: ${details}.`);
  if (refused && decisive.cause) {
    sentences.push(
      `Why (for operators only; the caller was not told this): ${printable(decisive.cause, 500).replace(/\.$/, '')}.`,
    );
  }
  if (decisive.told) {
    sentences.push(
      `The caller was told${status === null ? '' : ` ${status}`}: "${printable(decisive.told.detail, 400)}"; hint: "${printable(decisive.told.hint, 400)}".`,
    );
  }
  const advice = refused ? adviceFor(decisive, ctx) : null;
  if (advice) {
    sentences.push(`What it means: ${advice.meaning}`);
    sentences.push(`What to do: ${advice.fix}`);
    if (advice.command) sentences.push(`Run: ${advice.command}`);
  }
  return { requestId, decisive, records: ordered, sentences, advice };
}

function callerSentence(r: AuditRecord): string {
  const caller = r.clientAddress ? `The caller at ${printable(r.clientAddress, 60)}` : 'The caller';
  const principal = r.principal;
  if (principal !== null && principal !== 'anonymous') {
    const claimed =
      r.claimedName !== null && r.claimedName !== principal
        ? ` (it claimed to be ${printable(r.claimedName, 80)})`
        : '';
    return `${caller} was authenticated as ${printable(principal, 80)}${claimed}.`;
  }
  if (r.claimedName !== null) {
    return principal === 'anonymous'
      ? `${caller} was anonymous, and named ${printable(r.claimedName, 80)}.`
      : `${caller} claimed to be ${printable(r.claimedName, 80)}, and was not authenticated.`;
  }
  return principal === 'anonymous'
    ? `${caller} was anonymous.`
    : `${caller} did not say who it was, and was not authenticated.`;
}

const MAX_DETAIL_ENTRIES = 10;

function describeDetails(details: Record<string, unknown>): string {
  // The typed cause is told through the advice, not dumped as JSON.
  return Object.entries(details)
    .filter(([key]) => key !== 'cause')
    .slice(0, MAX_DETAIL_ENTRIES)
    .map(
      ([key, value]) =>
        `${printable(key, 40)}=${printable(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''), 200)}`,
    )
    .join(', ');
}

/** The story as text: the sentences, then every record of the request. */
export function renderRequestStory(story: RequestStory): string {
  const lines = [...story.sentences];
  if (story.records.length > 1) {
    lines.push('', `Records (${story.records.length}):`);
    for (const r of story.records) {
      lines.push(
        `  #${r.seq} ${when(r.at)} ${printable(r.kind, 40)} ${r.phase} ${r.outcome}${r.reason ? ` ${printable(r.reason, 60)}` : ''}${r.cause ? `: ${printable(r.cause, 200)}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The story as JSON for `--json`. */
export function requestStoryJson(story: RequestStory) {
  return {
    request_id: story.requestId,
    outcome: story.decisive.outcome,
    reason: story.decisive.reason,
    cause: story.decisive.cause,
    told: story.decisive.told,
    story: story.sentences,
    advice: story.advice,
    records: story.records.map(auditRecordJson),
  };
}

/**
 * Reads a request's records from the store; when there are none, the outage file (a 503
 * audit_unavailable has no record in the log it could not write), then the flood summary of the id's
 * window and source; null when none knows the id.
 */
export async function explainRequest(
  store: Pick<AuditStore, 'queryAudit'>,
  requestId: string,
  ctx: CommandContext,
  outage?: OutageLookup,
): Promise<RequestStory | null> {
  const records = await store.queryAudit({ requestId, limit: MAX_WIRE_RECORDS });
  if (records.length === 0 && outage) {
    const entry = outage.find(requestId);
    if (entry !== null) return requestStory(requestId, [outageRecord(entry)], ctx);
  }
  if (records.length === 0) {
    // Folded into a flood summary: found by the time and source its id carries.
    return floodStory(requestId, await floodSummariesOf(requestId, (f) => store.queryAudit(f)), ctx);
  }
  return requestStory(requestId, records, ctx);
}
