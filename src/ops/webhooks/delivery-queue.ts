/**
 * The in-memory delivery queue: at most `concurrency` deliveries in flight, retries on the retry
 * schedule, a bound on what waits, and a way to wait until nothing is left. Never holds up the
 * caller: enqueue() only queues.
 */
import type { Delivery, PostResult } from './http-post.js';
import { type Backoff, retryable, retryDelay } from './retry-schedule.js';

export type DeliveryOutcome = 'delivered' | 'failed' | 'dropped';

export interface NotifierLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** A delivery and how many attempts it has had. */
export interface QueuedDelivery extends Delivery {
  attempt: number;
}

export interface DeliveryQueueOptions {
  /** One attempt; never throws. */
  send(delivery: QueuedDelivery): Promise<PostResult>;
  backoff: Backoff;
  /** Attempts per delivery, the first included. */
  maxAttempts: number;
  /** Deliveries queued, in flight or waiting to retry; beyond it new ones are dropped. */
  queueLimit: number;
  /** Deliveries in flight at once. */
  concurrency: number;
  /** Jitter source, [0, 1). */
  random(): number;
  logger: NotifierLogger | undefined;
  onDelivery: ((outcome: DeliveryOutcome) => void) | undefined;
}

/** A URL as it may be logged: no credentials, no query string (either may carry a secret). */
function shownUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export class DeliveryQueue {
  readonly #o: DeliveryQueueOptions;
  readonly #queue: QueuedDelivery[] = [];
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  #inFlight = 0;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: DeliveryQueueOptions) {
    this.#o = options;
  }

  /** Queues a delivery; false when it was not (stopped, or dropped because the queue is full). */
  enqueue(delivery: QueuedDelivery): boolean {
    if (this.#stopped) return false;
    if (this.#pending() >= this.#o.queueLimit) {
      this.#o.logger?.warn({ url: shownUrl(delivery.url) }, 'webhook queue full; event dropped');
      this.#o.onDelivery?.('dropped');
      return false;
    }
    this.#queue.push(delivery);
    this.#pump();
    return true;
  }

  /** Abandons queued and waiting deliveries; in-flight ones finish on their own, without retry. */
  stop(): void {
    this.#stopped = true;
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    this.#queue.length = 0;
    this.#settleIdle();
  }

  /** Resolves when nothing is queued, in flight or waiting to retry. */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolveIdle) => this.#idleWaiters.push(resolveIdle));
  }

  #pending(): number {
    return this.#queue.length + this.#retryTimers.size + this.#inFlight;
  }

  #pump(): void {
    while (this.#inFlight < this.#o.concurrency && this.#queue.length > 0) {
      const delivery = this.#queue.shift() as QueuedDelivery;
      this.#inFlight++;
      void this.#attempt(delivery).finally(() => {
        this.#inFlight--;
        this.#pump();
        this.#settleIdle();
      });
    }
  }

  async #attempt(delivery: QueuedDelivery): Promise<void> {
    delivery.attempt++;
    const result = await this.#o.send(delivery);
    const where = { url: shownUrl(delivery.url), delivery: delivery.id, attempt: delivery.attempt };
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      this.#o.logger?.info({ ...where, status: result.status }, 'webhook delivered');
      this.#o.onDelivery?.('delivered');
      return;
    }
    const again = retryable(result.status);
    if (!again || delivery.attempt >= this.#o.maxAttempts || this.#stopped) {
      this.#o.logger?.warn(
        { ...where, status: result.status, error: result.error },
        again ? 'webhook delivery failed; giving up after the last attempt' : 'webhook refused; not retried',
      );
      this.#o.onDelivery?.('failed');
      return;
    }
    const delay = retryDelay(delivery.attempt, this.#o.backoff, this.#o.random);
    this.#o.logger?.info(
      { ...where, status: result.status, error: result.error, delay },
      'webhook retry scheduled',
    );
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      this.#queue.push(delivery);
      this.#pump();
    }, delay);
    timer.unref();
    this.#retryTimers.add(timer);
  }

  #isIdle(): boolean {
    return this.#pending() === 0;
  }

  #settleIdle(): void {
    if (!this.#isIdle()) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
  }
}
