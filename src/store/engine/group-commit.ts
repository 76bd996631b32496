/**
 * Group commit: operations that arrive while the database is busy, or within one turn of the event loop,
 * share one transaction and therefore one fsync. Every caller still gets its own result, and no caller
 * hears "done" before the COMMIT that made its operation durable has returned.
 */

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

interface QueuedOperation {
  run(): Promise<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

export class StoreClosedError extends Error {
  constructor() {
    super('the store is closed');
    this.name = 'StoreClosedError';
  }
}

export class GroupCommitQueue {
  readonly #hooks: GroupCommitHooks;
  readonly #maxBatchSize: number;
  #queue: QueuedOperation[] = [];
  #scheduled = false;
  #flushing = false;
  #closed = false;
  #idleWaiters: Array<() => void> = [];

  constructor(hooks: GroupCommitHooks, options: GroupCommitOptions) {
    if (!Number.isSafeInteger(options.maxBatchSize) || options.maxBatchSize < 1) {
      throw new RangeError('maxBatchSize must be a positive integer');
    }
    this.#hooks = hooks;
    this.#maxBatchSize = options.maxBatchSize;
  }

  /** Queues `operation` for the next batch; settles after that batch's commit. */
  submit<T>(operation: () => Promise<T>): Promise<T> {
    if (this.#closed) {
      return Promise.reject(new StoreClosedError());
    }
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ run: operation, resolve: resolve as (value: unknown) => void, reject });
      this.#schedule();
    });
  }

  /** Refuses new operations and resolves once every queued one has settled. */
  close(): Promise<void> {
    this.#closed = true;
    if (this.#isIdle()) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #isIdle(): boolean {
    return this.#queue.length === 0 && !this.#flushing && !this.#scheduled;
  }

  #schedule(): void {
    if (this.#scheduled || this.#flushing) {
      return;
    }
    this.#scheduled = true;
    // setImmediate, not a microtask: it runs after the poll phase, so every request the event loop
    // received in this turn has had its chance to join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    const batch = this.#queue.splice(0, this.#maxBatchSize);
    const outcomes: Array<PromiseSettledResult<unknown>> = [];
    try {
      await this.#hooks.runBatch(async () => {
        for (const operation of batch) {
          outcomes.push(await this.#hooks.runIsolated(() => operation.run()));
        }
      });
      batch.forEach((operation, index) => {
        const outcome = outcomes[index];
        if (outcome?.status === 'fulfilled') {
          operation.resolve(outcome.value);
        } else {
          operation.reject(outcome === undefined ? new Error('operation did not run') : outcome.reason);
        }
      });
    } catch (error) {
      for (const operation of batch) {
        operation.reject(error);
      }
    } finally {
      this.#flushing = false;
      if (this.#queue.length > 0) {
        this.#schedule();
      } else if (this.#isIdle()) {
        for (const wake of this.#idleWaiters.splice(0)) {
          wake();
        }
      }
    }
  }
}
