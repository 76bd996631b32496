/**
 * The audit log as the rest of certmaster sees it: `record` an event and, once it resolves, the event is
 * durably stored and chained; if it rejects, the caller must not act (fail closed, as Vault's audit
 * devices do) and answers 503. Callers of one event-loop turn share one append, and on SQLite that
 * append shares its commit with the other writes of the moment, so auditing every decision costs a
 * fraction of a commit per request rather than a commit each.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '../types.js';
import { MicroBatcher } from '../util/micro-batcher.js';
import { type AnchorVerification, type AuditCoverage, auditCoverage, verifyAgainstAnchor } from './anchor.js';
import { AuditChainBrokenError, AuditUnavailableError } from './audit-errors.js';
import type { Auditor, RecordsWithinWrites } from './auditor.js';
import { type AuditVerification, verifyAuditChain } from './chain.js';
import { type AuditSigningKey, auditKeyId, signCheckpoint } from './checkpoint.js';
import { type AuditLogLogger, CheckpointSchedule } from './checkpoint-schedule.js';
import { linkedRecords } from './linked-records.js';
import { type StorableAuditEvent, storableAuditEvent } from './storable-event.js';
import type { AuditLink, AuditStore } from './storage-port.js';
import type { AuditCheckpoint, AuditEvent, AuditRecord, SpaceReclaim } from './types.js';

export { AuditChainBrokenError, AuditUnavailableError, type AuditUnavailableReason } from './audit-errors.js';
export { type Auditor, NoopAuditSink, type RecordsWithinWrites } from './auditor.js';
export type { AuditLogLogger } from './checkpoint-schedule.js';

export interface AuditLogOptions {
  store: AuditStore;
  clock: Clock;
  /** Signs the periodic and prune checkpoints. */
  signer: AuditSigningKey;
  /** A checkpoint of the head after every this many records written by this log (default 1000). */
  checkpointEvery?: number;
  /**
   * Also a checkpoint when records were added and the last one is this old (default 60 s), so a crash
   * leaves at most this long of records that only an external anchor could vouch for. 0 turns it off.
   */
  checkpointIntervalMs?: number;
  /** Records waiting to be written beyond which `record` refuses at once (default 10,000). */
  maxPending?: number;
  /** Public keys of earlier audit keys, so checkpoints they signed still verify after a rotation. */
  previousPublicKeys?: readonly KeyObject[];
  /**
   * When no record was written for this long, readiness writes a probe record before saying yes
   * (default 30 s): an idle server whose disk filled meanwhile would otherwise still say ready.
   */
  idleProbeMs?: number;
  logger?: AuditLogLogger;
}

export const DEFAULT_CHECKPOINT_EVERY = 1000;
export const DEFAULT_MAX_PENDING = 10_000;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;
/** Records per append (one transaction): bounds one commit's size and the time it holds the lock. */
const MAX_APPEND_BATCH = 2048;
/** How often readiness may write a probe record while the last audit write had failed. */
const PROBE_INTERVAL_MS = 5_000;
const DEFAULT_IDLE_PROBE_MS = 30_000;
/** What `prune` removed, the checkpoint that replaces it, and what giving the space back did. */
export interface PruneOutcome {
  removed: number;
  checkpoint: AuditCheckpoint | null;
  /** Null when nothing was removed. */
  space: SpaceReclaim | null;
}

/** Records removed per prune transaction, so a large prune never blocks other writers for long. */
const PRUNE_STEP = 10_000;
/** The smallest step tried when a larger one fails (on a full disk, the log of a step must fit). */
const MIN_PRUNE_STEP = 100;

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  }
  return value;
}

export class AuditLog implements Auditor, RecordsWithinWrites {
  readonly #store: AuditStore;
  readonly #clock: Clock;
  readonly #signer: AuditSigningKey;
  readonly #publicKeys: ReadonlyMap<string, KeyObject>;
  readonly #maxPending: number;
  readonly #appends: MicroBatcher<StorableAuditEvent, AuditRecord>;
  readonly #checkpoints: CheckpointSchedule;
  #closed = false;
  /** The outcome of the last append: what readiness reports, since only a real write shows a full disk. */
  #lastWrite: { ok: boolean; at: number } | null = null;
  #probing: Promise<void> | null = null;
  readonly #idleProbeMs: number;
  readonly #logger: AuditLogLogger | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(options: AuditLogOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#signer = options.signer;
    const interval = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.#checkpoints = new CheckpointSchedule({
      store: options.store,
      clock: options.clock,
      signer: options.signer,
      every: positiveInteger(options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY, 'checkpointEvery'),
      intervalMs: interval === 0 ? 0 : positiveInteger(interval, 'checkpointIntervalMs'),
      logger: options.logger,
      onSettled: () => this.#wakeIfIdle(),
    });
    this.#maxPending = positiveInteger(options.maxPending ?? DEFAULT_MAX_PENDING, 'maxPending');
    this.#idleProbeMs = positiveInteger(options.idleProbeMs ?? DEFAULT_IDLE_PROBE_MS, 'idleProbeMs');
    const logger = options.logger;
    this.#appends = new MicroBatcher<StorableAuditEvent, AuditRecord>({
      maxBatch: MAX_APPEND_BATCH,
      run: async (events) => {
        const records = linkedRecords(events, await this.#store.appendAudit(events));
        this.#lastWrite = { ok: true, at: Date.now() };
        this.#checkpoints.afterAppend(records);
        return records.map((value) => ({ status: 'fulfilled', value }));
      },
      // Every event of the failed append is refused alike.
      failure: (error, events) => this.#failed(error, events.length),
    });
    this.#logger = logger;
    const publicKeys = new Map<string, KeyObject>([[options.signer.keyId, options.signer.publicKey]]);
    for (const publicKey of options.previousPublicKeys ?? []) {
      publicKeys.set(auditKeyId(publicKey), publicKey);
    }
    this.#publicKeys = publicKeys;
  }

  /**
   * Resolves with the stored record once it is durable; rejects with AuditUnavailableError when it
   * cannot be written (every event of the failed append is refused alike), when too many are already
   * waiting, or after `close`. An event the log can never store (unknown kind, oversized field) rejects
   * with a TypeError or RangeError alone, without failing the others. Do not change the event (or its
   * details) after passing it in.
   */
  record(event: AuditEvent): Promise<AuditRecord> {
    if (this.#closed) {
      return Promise.reject(new AuditUnavailableError('closed'));
    }
    if (this.#appends.waiting >= this.#maxPending) {
      return Promise.reject(new AuditUnavailableError('queue_full'));
    }
    let storable: StorableAuditEvent;
    try {
      storable = storableAuditEvent(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#appends.submit(storable);
  }

  prepareWithin(event: AuditEvent): StorableAuditEvent {
    if (this.#closed) {
      throw new AuditUnavailableError('closed');
    }
    return storableAuditEvent(event);
  }

  writtenWithin(event: StorableAuditEvent, link: AuditLink): AuditRecord {
    const records = linkedRecords([event], [link]);
    this.#lastWrite = { ok: true, at: Date.now() };
    // A write that was already in flight at close lands after the closing checkpoint: it is then
    // uncovered, as every record written since the last checkpoint is, not a break in the chain.
    this.#checkpoints.afterAppend(records);
    return records[0] as AuditRecord;
  }

  failedWithin(error: unknown): AuditUnavailableError {
    return this.#failed(error, 1);
  }

  #failed(error: unknown, refused: number): AuditUnavailableError {
    this.#lastWrite = { ok: false, at: Date.now() };
    this.#logger?.error(
      { err: error instanceof Error ? error.message : String(error), refused },
      'the audit log cannot be written: refusing the actions it was to record',
    );
    return new AuditUnavailableError('write_failed', { cause: error });
  }

  /**
   * Removes the records older than `before`, behind a signed checkpoint of the last one removed, so the
   * chain still verifies from there. Cuts before the first record at or after `before`: with clocks of
   * several replicas slightly apart, no record of `before` or later is ever removed. Refuses (with
   * AuditChainBrokenError) when the chain does not verify: a checkpoint would vouch for the tampering.
   */
  async prune(before: Date): Promise<PruneOutcome> {
    const verification = await this.verify();
    if (!verification.ok) {
      throw new AuditChainBrokenError(verification.firstBrokenSeq, verification.why);
    }
    const head = await this.#store.auditHead();
    if (head === null) {
      return { removed: 0, checkpoint: null, space: null };
    }
    const firstKept = (await this.#store.queryAudit({ since: before, limit: 1 }))[0];
    const cut = firstKept === undefined ? head.seq : firstKept.seq - 1;
    const oldest = (await this.#store.auditRange(Number.MIN_SAFE_INTEGER, cut, 1))[0];
    if (oldest === undefined) {
      return { removed: 0, checkpoint: null, space: null };
    }
    let removed = 0;
    let checkpoint: AuditCheckpoint | null = null;
    let step = PRUNE_STEP;
    for (let done = oldest.seq - 1; done < cut; ) {
      const through = Math.min(cut, done + step);
      const record = (await this.#store.auditRange(through, through, 1))[0];
      if (record === undefined) {
        throw new Error(`record ${through} disappeared while pruning: is another prune running?`);
      }
      const next = signCheckpoint(this.#signer, record.seq, record.hash, this.#clock.now(), record.seq + 1);
      try {
        // Rewinds the write-ahead log first: on a full disk each step then fits in the space the last
        // one used, instead of needing a log as large as the whole prune.
        await this.#store.settleAuditWrites();
        removed += await this.#store.pruneAudit(next);
      } catch (error) {
        // A step that failed changed nothing; a smaller one needs less log space (a full disk).
        if (step <= MIN_PRUNE_STEP) throw error;
        step = Math.max(MIN_PRUNE_STEP, Math.floor(step / 4));
        continue;
      }
      checkpoint = next;
      done = through;
    }
    await this.#store.settleAuditWrites();
    return { removed, checkpoint, space: await this.#store.reclaimAuditSpace() };
  }

  /**
   * Whether the log can be written, from the outcome of the last real append (a read, or a write rolled
   * back, succeeds on a full disk). After a failure it tries again with a real `audit.probe` record at
   * most every PROBE_INTERVAL_MS, so an instance taken out of service for it can come back; and when
   * nothing was written for idleProbeMs (or ever), it probes before answering, so a disk that filled
   * while the server was idle is noticed at the next readiness check.
   */
  async writable(): Promise<{ ok: boolean; detail: string }> {
    const last = this.#lastWrite;
    const age = last === null ? Number.POSITIVE_INFINITY : Date.now() - last.at;
    const due = last === null || last.ok ? age >= this.#idleProbeMs : age >= PROBE_INTERVAL_MS;
    if (due && !this.#closed) {
      this.#probing ??= this.#probe().finally(() => {
        this.#probing = null;
      });
      await this.#probing;
    }
    const now = this.#lastWrite;
    if (now === null || now.ok) {
      return { ok: true, detail: 'ok' };
    }
    return { ok: false, detail: 'not writable: the last audit write failed (the server log says why)' };
  }

  async #probe(): Promise<void> {
    await this.record({
      at: this.#clock.now(),
      requestId: `probe-${Date.now()}`,
      kind: 'audit.probe',
      phase: 'decision',
      outcome: 'success',
      reason: null,
      principal: 'readiness check',
      claimedName: null,
      method: 'local',
      credentialId: null,
      clientAddress: null,
      cause: null,
      told: null,
      target: null,
      details: {},
    }).catch(() => undefined);
  }

  /** Checks the whole chain against this log's key (and the previous ones it was given). */
  verify(): Promise<AuditVerification> {
    return verifyAuditChain(this.#store, { publicKeys: this.#publicKeys });
  }

  /** How many records no stored checkpoint covers, and when the newest checkpoint was signed. */
  coverage(): Promise<AuditCoverage> {
    return auditCoverage(this.#store);
  }

  /** Whether the log still contains or extends a checkpoint kept outside the database (anchor.ts). */
  verifyAgainst(anchor: AuditCheckpoint): Promise<AnchorVerification> {
    return verifyAgainstAnchor(this.#store, anchor, this.#publicKeys);
  }

  /**
   * The newest checkpoint after signing one of the stored head, unless one already names it: what an
   * operator exports as an anchor. Null when the log is empty.
   */
  async checkpointHead(): Promise<AuditCheckpoint | null> {
    const head = await this.#store.auditHead();
    if (head === null) {
      return null;
    }
    const existing = (await this.#store.listAuditCheckpoints()).find(
      (checkpoint) => checkpoint.seq === head.seq && checkpoint.hash === head.hash,
    );
    if (existing !== undefined) {
      return existing;
    }
    const checkpoint = signCheckpoint(this.#signer, head.seq, head.hash, this.#clock.now(), null);
    await this.#store.addAuditCheckpoint(checkpoint);
    return checkpoint;
  }

  /**
   * Signs a checkpoint of the last record this log wrote when records were added since the last one and
   * that one is at least `checkpointIntervalMs` old. Called by a timer; tests call it after moving the clock.
   */
  checkpointIfDue(): void {
    this.#checkpoints.checkpointIfDue();
  }

  /** Resolves when every record accepted so far is written and no checkpoint is being written. */
  idle(): Promise<void> {
    if (this.#isIdle()) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
      this.#wakeIfIdle();
    });
  }

  /**
   * Refuses new records, waits for the accepted ones to be written, then signs a checkpoint of the last
   * one unless one was signed since: records cut off the end while the server is down are noticed too.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.idle();
    await this.#checkpoints.close();
  }

  #isIdle(): boolean {
    return this.#appends.idle && !this.#checkpoints.busy;
  }

  #wakeIfIdle(): void {
    if (this.#idleWaiters.length === 0) {
      return;
    }
    if (!this.#appends.idle) {
      // Look again once the appends are done; a checkpoint they start wakes us when it settles.
      void this.#appends.whenIdle().then(() => this.#wakeIfIdle());
      return;
    }
    if (this.#checkpoints.busy) {
      return;
    }
    for (const wake of this.#idleWaiters.splice(0)) {
      wake();
    }
  }
}
