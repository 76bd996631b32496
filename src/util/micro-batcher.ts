/**
 * Items that arrive within one turn of the event loop (or while the previous batch is running) go
 * out together in one batch, and each caller still hears its own outcome. The store's group commit
 * and the audit log's appends are both this: one transaction, one fsync, many callers.
 */

interface Queued<I, O> {
  item: I;
  resolve(value: O): void;
  reject(reason: unknown): void;
}

export interface MicroBatcherOptions<I, O> {
  /** Upper bound on items per batch, so one batch's latency stays bounded. */
  maxBatch: number;
  /**
   * Runs one batch and answers one outcome per item, in order. When it throws, every item of the
   * batch is rejected with `failure(error)` (the error itself by default).
   */
  run(items: I[]): Promise<Array<PromiseSettledResult<O>>>;
  failure?: (error: unknown, items: readonly I[]) => unknown;
}

export class MicroBatcher<I, O> {
  readonly #options: MicroBatcherOptions<I, O>;
  #queue: Array<Queued<I, O>> = [];
  #scheduled = false;
  #running = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: MicroBatcherOptions<I, O>) {
    if (!Number.isSafeInteger(options.maxBatch) || options.maxBatch < 1) {
      throw new RangeError('maxBatch must be a positive integer');
    }
    this.#options = options;
  }

  /** Items waiting for a batch (not counting the one running). */
  get waiting(): number {
    return this.#queue.length;
  }

  /** True when nothing waits, runs or is about to run. */
  get idle(): boolean {
    return this.#queue.length === 0 && !this.#running && !this.#scheduled;
  }

  /** Queues `item` for the next batch; settles when that batch has run. */
  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** Resolves once every item submitted so far has settled. */
  whenIdle(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #schedule(): void {
    if (this.#scheduled || this.#running) return;
    this.#scheduled = true;
    // setImmediate, not a microtask: it runs after the poll phase, so every request the event loop
    // received in this turn has had its chance to join the batch.
    setImmediate(() => {
      this.#scheduled = false;
      void this.#runBatch();
    });
  }

  async #runBatch(): Promise<void> {
    this.#running = true;
    const batch = this.#queue.splice(0, this.#options.maxBatch);
    try {
      const outcomes = await this.#options.run(batch.map((queued) => queued.item));
      batch.forEach((queued, index) => {
        const outcome = outcomes[index];
        if (outcome?.status === 'fulfilled') queued.resolve(outcome.value);
        else
          queued.reject(
            outcome === undefined ? new Error('the batch gave no outcome for this item') : outcome.reason,
          );
      });
    } catch (error) {
      const failure = this.#options.failure
        ? this.#options.failure(
            error,
            batch.map((q) => q.item),
          )
        : error;
      for (const queued of batch) queued.reject(failure);
    } finally {
      this.#running = false;
      if (this.#queue.length > 0) {
        this.#schedule();
      } else if (this.idle) {
        for (const wake of this.#idleWaiters.splice(0)) wake();
      }
    }
  }
}
