/**
 * The audit log as the rest of certmaster sees it: `record` an event and, once it resolves, the event is
 * durably stored and chained; if it rejects, the caller must not act (fail closed, as Vault's audit
 * devices do) and answers 503. Callers of one event-loop turn share one append, and on SQLite that
 * append shares its commit with the other writes of the moment, so auditing every decision costs a
 * fraction of a commit per request rather than a commit each.
 */
import type { KeyObject } from 'node:crypto';
import { assertStorableAuditEvent } from '../store/audit/audit-schema.js';
import type { AuditStore } from '../store/audit/audit-store.js';
import type { Clock } from '../types.js';
import { type AnchorVerification, type AuditCoverage, auditCoverage, verifyAgainstAnchor } from './anchor.js';
import { AuditChainBrokenError, type Auditor, AuditUnavailableError } from './auditor.js';
import { type AuditVerification, hashAuditRecord, verifyAuditChain } from './chain.js';
import { type AuditSigningKey, auditKeyId, signCheckpoint } from './checkpoint.js';
import type { AuditCheckpoint, AuditEvent, AuditRecord } from './types.js';

export {
  AuditChainBrokenError,
  type Auditor,
  AuditUnavailableError,
  type AuditUnavailableReason,
  NoopAuditSink,
} from './auditor.js';

/** pino's shape, so the server's logger can be passed as it is. */
export interface AuditLogLogger {
  error(obj: object, msg: string): void;
}

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
  logger?: AuditLogLogger;
}

interface PendingRecord {
  event: AuditEvent;
  resolve(record: AuditRecord): void;
  reject(reason: unknown): void;
}

export const DEFAULT_CHECKPOINT_EVERY = 1000;
export const DEFAULT_MAX_PENDING = 10_000;
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 60_000;
/** How often the timer looks whether a checkpoint is due (the clock decides whether it is). */
const CHECKPOINT_TIMER_MS = 5_000;
/** Records per append (one transaction): bounds one commit's size and the time it holds the lock. */
const MAX_APPEND_BATCH = 2048;
/** Records removed per prune transaction, so a large prune never blocks other writers for long. */
const PRUNE_STEP = 10_000;

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${what} must be a positive integer, got ${value}`);
  }
  return value;
}

export class AuditLog implements Auditor {
  readonly #store: AuditStore;
  readonly #clock: Clock;
  readonly #signer: AuditSigningKey;
  readonly #publicKeys: ReadonlyMap<string, KeyObject>;
  readonly #checkpointEvery: number;
  readonly #checkpointIntervalMs: number;
  readonly #timer: NodeJS.Timeout | null;
  #lastCheckpointAt: number;
  readonly #maxPending: number;
  readonly #logger: AuditLogLogger | undefined;
  #pending: PendingRecord[] = [];
  #scheduled = false;
  #flushing = false;
  #closed = false;
  #sinceCheckpoint = 0;
  #checkpointing: Promise<void> | null = null;
  #nextCheckpointHead: AuditRecord | null = null;
  #lastHead: AuditRecord | null = null;
  #idleWaiters: Array<() => void> = [];

  constructor(options: AuditLogOptions) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#signer = options.signer;
    this.#checkpointEvery = positiveInteger(
      options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY,
      'checkpointEvery',
    );
    const interval = options.checkpointIntervalMs ?? DEFAULT_CHECKPOINT_INTERVAL_MS;
    this.#checkpointIntervalMs = interval === 0 ? 0 : positiveInteger(interval, 'checkpointIntervalMs');
    this.#lastCheckpointAt = this.#clock.now().getTime();
    this.#timer =
      this.#checkpointIntervalMs === 0
        ? null
        : setInterval(
            () => this.checkpointIfDue(),
            Math.min(CHECKPOINT_TIMER_MS, this.#checkpointIntervalMs),
          ).unref();
    this.#maxPending = positiveInteger(options.maxPending ?? DEFAULT_MAX_PENDING, 'maxPending');
    this.#logger = options.logger;
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
    if (this.#pending.length >= this.#maxPending) {
      return Promise.reject(new AuditUnavailableError('queue_full'));
    }
    try {
      assertStorableAuditEvent(event);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<AuditRecord>((resolve, reject) => {
      this.#pending.push({ event: { ...event }, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Removes the records older than `before`, behind a signed checkpoint of the last one removed, so the
   * chain still verifies from there. Cuts before the first record at or after `before`: with clocks of
   * several replicas slightly apart, no record of `before` or later is ever removed. Refuses (with
   * AuditChainBrokenError) when the chain does not verify: a checkpoint would vouch for the tampering.
   */
  async prune(before: Date): Promise<{ removed: number; checkpoint: AuditCheckpoint | null }> {
    const verification = await this.verify();
    if (!verification.ok) {
      throw new AuditChainBrokenError(verification.firstBrokenSeq, verification.why);
    }
    const head = await this.#store.auditHead();
    if (head === null) {
      return { removed: 0, checkpoint: null };
    }
    const firstKept = (await this.#store.queryAudit({ since: before, limit: 1 }))[0];
    const cut = firstKept === undefined ? head.seq : firstKept.seq - 1;
    const oldest = (await this.#store.auditRange(Number.MIN_SAFE_INTEGER, cut, 1))[0];
    if (oldest === undefined) {
      return { removed: 0, checkpoint: null };
    }
    let removed = 0;
    let checkpoint: AuditCheckpoint | null = null;
    for (let through = oldest.seq - 1; through < cut; ) {
      through = Math.min(cut, through + PRUNE_STEP);
      const record = (await this.#store.auditRange(through, through, 1))[0];
      if (record === undefined) {
        throw new Error(`record ${through} disappeared while pruning: is another prune running?`);
      }
      checkpoint = signCheckpoint(this.#signer, record.seq, record.hash, this.#clock.now(), record.seq + 1);
      removed += await this.#store.pruneAudit(checkpoint);
    }
    return { removed, checkpoint };
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
    if (
      this.#checkpointIntervalMs === 0 ||
      this.#sinceCheckpoint === 0 ||
      this.#lastHead === null ||
      this.#clock.now().getTime() - this.#lastCheckpointAt < this.#checkpointIntervalMs
    ) {
      return;
    }
    this.#sinceCheckpoint = 0;
    if (this.#checkpointing !== null) {
      this.#nextCheckpointHead = this.#lastHead;
      return;
    }
    void this.#startCheckpoints(this.#lastHead);
  }

  /** Resolves when every record accepted so far is written and no checkpoint is being written. */
  idle(): Promise<void> {
    if (this.#isIdle()) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Refuses new records, waits for the accepted ones to be written, then signs a checkpoint of the last
   * one unless one was signed since: records cut off the end while the server is down are noticed too.
   */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) {
      clearInterval(this.#timer);
    }
    await this.idle();
    if (this.#sinceCheckpoint > 0 && this.#lastHead !== null) {
      this.#sinceCheckpoint = 0;
      await this.#startCheckpoints(this.#lastHead);
    }
  }

  #isIdle(): boolean {
    return this.#pending.length === 0 && !this.#scheduled && !this.#flushing && this.#checkpointing === null;
  }

  #wakeIfIdle(): void {
    if (this.#isIdle()) {
      for (const wake of this.#idleWaiters.splice(0)) {
        wake();
      }
    }
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) {
      return;
    }
    this.#scheduled = true;
    // setImmediate, not a microtask: every request the event loop took in this turn joins the append.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    const batch = this.#pending.splice(0, MAX_APPEND_BATCH);
    try {
      const records = await this.#store.appendAudit(
        batch.map((pending) => pending.event),
        hashAuditRecord,
      );
      if (records.length !== batch.length) {
        throw new Error(`the store returned ${records.length} records for ${batch.length} events`);
      }
      batch.forEach((pending, index) => {
        pending.resolve(records[index]!);
      });
      this.#afterAppend(records);
    } catch (error) {
      this.#logger?.error(
        { err: error instanceof Error ? error.message : String(error), refused: batch.length },
        'the audit log cannot be written: refusing the actions it was to record',
      );
      const failure = new AuditUnavailableError('write_failed', { cause: error });
      for (const pending of batch) {
        pending.reject(failure);
      }
    } finally {
      this.#flushing = false;
      if (this.#pending.length > 0) {
        this.#schedule();
      } else {
        this.#wakeIfIdle();
      }
    }
  }

  #afterAppend(records: readonly AuditRecord[]): void {
    const head = records[records.length - 1];
    if (head === undefined) {
      return;
    }
    this.#lastHead = head;
    this.#sinceCheckpoint += records.length;
    if (this.#sinceCheckpoint < this.#checkpointEvery) {
      this.checkpointIfDue();
      return;
    }
    this.#sinceCheckpoint = 0;
    if (this.#checkpointing !== null) {
      // One checkpoint write at a time; the newest head waiting replaces any older one.
      this.#nextCheckpointHead = head;
      return;
    }
    void this.#startCheckpoints(head);
  }

  #startCheckpoints(head: AuditRecord): Promise<void> {
    // Cleared in a later microtask, never synchronously: the assignment always happens first.
    this.#checkpointing = this.#writeCheckpoints(head).finally(() => {
      this.#checkpointing = null;
      this.#wakeIfIdle();
    });
    return this.#checkpointing;
  }

  /** Runs in the background: callers of `record` never wait for a checkpoint. */
  async #writeCheckpoints(first: AuditRecord): Promise<void> {
    let head: AuditRecord | null = first;
    while (head !== null) {
      try {
        const checkpoint = signCheckpoint(this.#signer, head.seq, head.hash, this.#clock.now(), null);
        await this.#store.addAuditCheckpoint(checkpoint);
        this.#lastCheckpointAt = checkpoint.at.getTime();
      } catch (error) {
        // The chain itself is intact; the next checkpoint will vouch for this head too.
        this.#logger?.error(
          { err: error instanceof Error ? error.message : String(error), seq: head.seq },
          'could not write an audit checkpoint',
        );
      }
      head = this.#nextCheckpointHead;
      this.#nextCheckpointHead = null;
    }
  }
}
