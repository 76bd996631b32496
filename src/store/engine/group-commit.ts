/**
 * Group commit: operations that arrive while the database is busy, or within one turn of the event loop,
 * share one transaction and therefore one fsync. Every caller still gets its own result, and no caller
 * hears "done" before the COMMIT that made its operation durable has returned.
 */

import { MicroBatcher } from '../../util/micro-batcher.js';

export interface GroupCommitHooks {
  /**
   * Opens a transaction, awaits `body`, commits. When anything fails it rolls back and rejects; the
   * queue then rejects every operation of the batch with that error.
   */
  runBatch(body: () => Promise<void>): Promise<void>;
  /**
   * Runs one operation so that its failure undoes only its own writes (a savepoint), and reports how it
   * ended. Throws only when the batch's transaction itself cannot continue.
   */
  runIsolated<T>(operation: () => Promise<T>): Promise<PromiseSettledResult<T>>;
}

export interface GroupCommitOptions {
  /** Upper bound on operations per transaction, so one commit's latency stays bounded. */
  maxBatchSize: number;
}

export class StoreClosedError extends Error {
  constructor() {
    super('the store is closed');
    this.name = 'StoreClosedError';
  }
}

export class GroupCommitQueue {
  readonly #batcher: MicroBatcher<() => Promise<unknown>, unknown>;
  #closed = false;

  constructor(hooks: GroupCommitHooks, options: GroupCommitOptions) {
    if (!Number.isSafeInteger(options.maxBatchSize) || options.maxBatchSize < 1) {
      throw new RangeError('maxBatchSize must be a positive integer');
    }
    this.#batcher = new MicroBatcher({
      maxBatch: options.maxBatchSize,
      run: async (operations) => {
        const outcomes: Array<PromiseSettledResult<unknown>> = [];
        await hooks.runBatch(async () => {
          for (const operation of operations) outcomes.push(await hooks.runIsolated(operation));
        });
        return outcomes;
      },
    });
  }

  /** Queues `operation` for the next batch; settles after that batch's commit. */
  submit<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new StoreClosedError());
    }
    return this.#batcher.submit(operation) as Promise<T>;
  }

  /** Refuses new operations and resolves once every queued one has settled. */
  close(): Promise<void> {
    this.#closed = true;
    return this.#batcher.whenIdle();
  }
}
