/**
 * When the audit log signs a checkpoint of its head: after every `every` records it wrote, and when
 * records were added and the last checkpoint is `intervalMs` old, so a crash leaves at most that long of
 * records only an external anchor could vouch for. One checkpoint write at a time, in the background:
 * callers of `record` never wait for one.
 */
import type { Clock } from '../types.js';
import { type AuditSigningKey, signCheckpoint } from './checkpoint.js';
import type { AuditStore } from './storage-port.js';
import type { AuditRecord } from './types.js';

/** pino's shape, so the server's logger can be passed as it is. */
export interface AuditLogLogger {
  error(obj: object, msg: string): void;
}

export interface CheckpointScheduleOptions {
  store: AuditStore;
  clock: Clock;
  signer: AuditSigningKey;
  every: number;
  /** 0 turns the time-based checkpoint off. */
  intervalMs: number;
  logger?: AuditLogLogger | undefined;
  /** Called whenever a checkpoint write ends, so the log can wake those waiting for it to be idle. */
  onSettled(): void;
}

/** How often the timer looks whether a checkpoint is due (the clock decides whether it is). */
const CHECKPOINT_TIMER_MS = 5_000;

export class CheckpointSchedule {
  readonly #options: CheckpointScheduleOptions;
  readonly #timer: NodeJS.Timeout | null;
  #lastCheckpointAt: number;
  #sinceCheckpoint = 0;
  #checkpointing: Promise<void> | null = null;
  #nextCheckpointHead: AuditRecord | null = null;
  #lastHead: AuditRecord | null = null;

  constructor(options: CheckpointScheduleOptions) {
    this.#options = options;
    this.#lastCheckpointAt = options.clock.now().getTime();
    this.#timer =
      options.intervalMs === 0
        ? null
        : setInterval(
            () => this.checkpointIfDue(),
            Math.min(CHECKPOINT_TIMER_MS, options.intervalMs),
          ).unref();
  }

  get busy(): boolean {
    return this.#checkpointing !== null;
  }

  /** Counts the records just written; starts a checkpoint when enough were. */
  afterAppend(records: readonly AuditRecord[]): void {
    const head = records[records.length - 1];
    if (head === undefined) {
      return;
    }
    // Records the store wrote inside other writes (RecordsWithinWrites) may be reported after later
    // appends of the log's own: the head only moves forward.
    const last = this.#lastHead === null || head.seq > this.#lastHead.seq ? head : this.#lastHead;
    this.#lastHead = last;
    this.#sinceCheckpoint += records.length;
    if (this.#sinceCheckpoint < this.#options.every) {
      this.checkpointIfDue();
      return;
    }
    this.#sinceCheckpoint = 0;
    this.#begin(last);
  }

  checkpointIfDue(): void {
    if (
      this.#options.intervalMs === 0 ||
      this.#sinceCheckpoint === 0 ||
      this.#lastHead === null ||
      this.#options.clock.now().getTime() - this.#lastCheckpointAt < this.#options.intervalMs
    ) {
      return;
    }
    this.#sinceCheckpoint = 0;
    this.#begin(this.#lastHead);
  }

  /** Stops the timer and signs the last head unless a checkpoint was signed since it was written. */
  async close(): Promise<void> {
    if (this.#timer !== null) {
      clearInterval(this.#timer);
    }
    if (this.#checkpointing !== null) {
      await this.#checkpointing;
    }
    if (this.#sinceCheckpoint > 0 && this.#lastHead !== null) {
      this.#sinceCheckpoint = 0;
      await this.#start(this.#lastHead);
    }
  }

  #begin(head: AuditRecord): void {
    if (this.#checkpointing !== null) {
      // One checkpoint write at a time; the newest head waiting replaces any older one.
      this.#nextCheckpointHead = head;
      return;
    }
    void this.#start(head);
  }

  #start(head: AuditRecord): Promise<void> {
    // Cleared in a later microtask, never synchronously: the assignment always happens first.
    this.#checkpointing = this.#write(head).finally(() => {
      this.#checkpointing = null;
      this.#options.onSettled();
    });
    return this.#checkpointing;
  }

  async #write(first: AuditRecord): Promise<void> {
    const { store, signer, clock, logger } = this.#options;
    let head: AuditRecord | null = first;
    while (head !== null) {
      try {
        const checkpoint = signCheckpoint(signer, head.seq, head.hash, clock.now(), null);
        await store.addAuditCheckpoint(checkpoint);
        this.#lastCheckpointAt = checkpoint.at.getTime();
      } catch (error) {
        // The chain itself is intact; the next checkpoint will vouch for this head too.
        logger?.error(
          { err: error instanceof Error ? error.message : String(error), seq: head.seq },
          'could not write an audit checkpoint',
        );
      }
      head = this.#nextCheckpointHead;
      this.#nextCheckpointHead = null;
    }
  }
}
