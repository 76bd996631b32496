/**
 * Refusals that carry no identity (no credentials, malformed ones, an unknown scheme, a 400 or 404 of
 * an anonymous caller) and refusals of a source already throttled cost an attacker nothing to send;
 * recorded one by one they would fill the disk. After a few individual records per (source, reason)
 * in a window, the rest of that window is one summary record with a count, first and last time and a
 * sample of request ids, written when the window closes or the log closes (SIGTERM loses nothing; a
 * SIGKILL at most the open window's counts). The tracked keys are capped: beyond the cap, refusals
 * fold into one "many sources" summary per reason instead of growing the map.
 */
import type { Auditor } from './auditor.js';
import type { AuditEvent } from './types.js';

/** Address recorded on the summary of refusals folded together once too many sources were tracked. */
export const MANY_SOURCES = 'many sources';
/** Marks a summary record's details. */
export const FLOOD_SUMMARY = 'flood_summary';

const THROTTLED_REASONS: ReadonlySet<string> = new Set(['too_many_attempts', 'acme_rate_limited']);
/** Never summarised: an operator wants each of these. */
const ALWAYS_RECORDED: ReadonlySet<string> = new Set(['internal_error', 'audit_unavailable']);
const SAMPLE_IDS = 5;

export interface FloodSummaryOptions {
  now(): number;
  /** Length of a summary window in ms (default 60 s). */
  windowMs?: number;
  /** Individual records per (source, reason) in a window before summarising (default 5). */
  individualPerKey?: number;
  /** (source, reason) pairs tracked at once (default 1000); beyond, folded per reason. */
  maxKeys?: number;
  logger?: { error(obj: object, msg: string): void };
  /** `audit.summarize_floods`, read per refusal (a reload takes effect at once); default on. */
  enabled?: () => boolean;
}

interface Tally {
  source: string | null;
  reason: string;
  kind: AuditEvent['kind'];
  target: string | null;
  seen: number;
  summarised: number;
  first: number;
  last: number;
  sample: string[];
  lastRequestId: string;
}

/** Whether a refusal names nobody, or comes from a source the server already throttles. */
export function isFloodable(event: AuditEvent): boolean {
  if (event.outcome !== 'failure' || event.reason === null || ALWAYS_RECORDED.has(event.reason)) {
    return false;
  }
  if (THROTTLED_REASONS.has(event.reason)) return true;
  const anonymous = event.principal === null || event.principal === 'anonymous';
  return anonymous && event.credentialId === null && event.claimedName === null;
}

export class FloodSummarizer implements Auditor {
  readonly #inner: Auditor;
  readonly #now: () => number;
  readonly #windowMs: number;
  readonly #individual: number;
  readonly #maxKeys: number;
  readonly #logger: FloodSummaryOptions['logger'];
  readonly #enabled: () => boolean;
  readonly #timer: NodeJS.Timeout;
  #window = -1;
  #tallies = new Map<string, Tally>();
  #writing: Promise<unknown> = Promise.resolve();

  constructor(inner: Auditor, options: FloodSummaryOptions) {
    this.#inner = inner;
    this.#now = options.now;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#individual = options.individualPerKey ?? 5;
    this.#maxKeys = options.maxKeys ?? 1000;
    this.#logger = options.logger;
    this.#enabled = options.enabled ?? (() => true);
    this.#timer = setInterval(() => this.#rollIfDue(), Math.min(this.#windowMs, 5_000)).unref();
  }

  /** Keys tracked now: never above maxKeys plus one per reason. */
  get trackedKeys(): number {
    return this.#tallies.size;
  }

  record(event: AuditEvent): Promise<unknown> {
    if (!isFloodable(event) || !this.#enabled()) return this.#inner.record(event);
    this.#rollIfDue();
    const at = event.at.getTime();
    const reason = event.reason as string;
    let key = `${event.clientAddress ?? ''}\u0000${reason}`;
    let tally = this.#tallies.get(key);
    if (tally === undefined) {
      const folded = this.#tallies.size >= this.#maxKeys;
      if (folded) key = `\u0001${reason}`;
      tally = this.#tallies.get(key);
      if (tally === undefined) {
        tally = {
          source: folded ? MANY_SOURCES : event.clientAddress,
          reason,
          kind: event.kind,
          target: event.target,
          seen: 0,
          summarised: 0,
          first: at,
          last: at,
          sample: [],
          lastRequestId: event.requestId,
        };
        this.#tallies.set(key, tally);
      }
    }
    tally.seen += 1;
    if (tally.seen <= this.#individual && tally.source !== MANY_SOURCES) {
      return this.#inner.record(event);
    }
    if (tally.summarised === 0) tally.first = at;
    tally.summarised += 1;
    tally.last = at;
    tally.lastRequestId = event.requestId;
    if (tally.sample.length < SAMPLE_IDS) tally.sample.push(event.requestId);
    return Promise.resolve();
  }

  /** Writes the open window's summaries (on shutdown; the caller then closes the log). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#flush();
    await this.#writing;
  }

  /** Writes the summaries of the open window now; tests call it instead of waiting for the window. */
  flush(): Promise<unknown> {
    this.#flush();
    return this.#writing;
  }

  #rollIfDue(): void {
    const window = Math.floor(this.#now() / this.#windowMs);
    if (window !== this.#window) {
      this.#flush();
      this.#window = window;
    }
  }

  #flush(): void {
    const tallies = [...this.#tallies.values()].filter((tally) => tally.summarised > 0);
    this.#tallies = new Map();
    if (tallies.length === 0) return;
    const writes = tallies.map((tally) =>
      this.#inner.record(summaryEvent(tally, this.#windowMs)).catch((error: unknown) => {
        this.#logger?.error(
          {
            err: error instanceof Error ? error.message : String(error),
            reason: tally.reason,
            source: tally.source,
            count: tally.summarised,
          },
          'could not write a flood summary to the audit log',
        );
      }),
    );
    this.#writing = Promise.all([this.#writing, ...writes]);
  }
}

function summaryEvent(tally: Tally, windowMs: number): AuditEvent {
  return {
    at: new Date(tally.last),
    // The last summarised request's id: unique, and a reader asking for it finds the summary.
    requestId: tally.lastRequestId,
    kind: tally.kind,
    phase: 'decision',
    outcome: 'failure',
    reason: tally.reason,
    principal: null,
    claimedName: null,
    method: null,
    credentialId: null,
    clientAddress: tally.source === MANY_SOURCES ? null : tally.source,
    cause: `${tally.summarised} refusals for ${tally.reason} from ${tally.source ?? 'an unknown address'} between ${new Date(tally.first).toISOString()} and ${new Date(tally.last).toISOString()}; individual records are not kept for floods`,
    told: null,
    target: tally.target,
    details: {
      [FLOOD_SUMMARY]: true,
      count: tally.summarised,
      first: new Date(tally.first).toISOString(),
      last: new Date(tally.last).toISOString(),
      window_ms: windowMs,
      source: tally.source ?? 'unknown',
      sample_request_ids: tally.sample,
    },
  };
}
