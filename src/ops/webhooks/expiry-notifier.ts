/**
 * The expiry notifier: every interval, list what expires soon and, for each item that crossed a
 * threshold (e.g. 30, 7 and 1 days left) not yet announced, queue a signed JSON event to each URL.
 * Deliveries retry with exponential backoff on network errors and 5xx, give up on other 4xx, and
 * never hold up the caller: tick() only lists and queues.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../types.js';
import type { ExpiringItem } from '../expiry.js';
import { AnnouncedThresholds } from './announced-thresholds.js';
import { type DeliveryOutcome, DeliveryQueue, type NotifierLogger } from './delivery-queue.js';
import { expiringEvent } from './expiring-event.js';
import { postDelivery } from './http-post.js';
import type { WebhookSettings } from './settings.js';

export interface ExpiryNotifierOptions {
  settings: WebhookSettings;
  /** What expires before now + withinSeconds (a closure over listExpiring and the instance's sources). */
  list(now: Date, withinSeconds: number): Promise<ExpiringItem[]>;
  clock: Clock;
  /** Between checks; default one hour. */
  intervalMs?: number;
  /** First retry after about baseMs, doubling up to maxMs; default 1 s .. 5 min. */
  backoff?: { baseMs: number; maxMs: number };
  /** Attempts per delivery, the first included; default 8. */
  maxAttempts?: number;
  /** Per attempt, connection to last byte; default 10 s. */
  timeoutMs?: number;
  /** Deliveries queued or waiting to retry; beyond it new ones are dropped. Default 1000. */
  queueLimit?: number;
  /** Deliveries in flight at once; default 4. */
  concurrency?: number;
  logger?: NotifierLogger;
  onDelivery?(outcome: DeliveryOutcome): void;
  /** Jitter source, [0, 1). */
  random?(): number;
}

export class ExpiryNotifier {
  readonly #intervalMs: number;
  readonly #settings: WebhookSettings;
  readonly #list: ExpiryNotifierOptions['list'];
  readonly #clock: Clock;
  readonly #logger: NotifierLogger | undefined;
  readonly #announced: AnnouncedThresholds;
  readonly #deliveries: DeliveryQueue;
  #interval: NodeJS.Timeout | null = null;
  #ticking: Promise<number> | null = null;
  #stopped = false;

  constructor(options: ExpiryNotifierOptions) {
    this.#settings = options.settings;
    this.#list = options.list;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#intervalMs = options.intervalMs ?? 3_600_000;
    this.#announced = new AnnouncedThresholds(options.settings.thresholdsDays);
    const secret = options.settings.secret;
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.#deliveries = new DeliveryQueue({
      send: (delivery) => postDelivery(delivery, secret, timeoutMs),
      backoff: options.backoff ?? { baseMs: 1000, maxMs: 300_000 },
      maxAttempts: Math.max(1, options.maxAttempts ?? 8),
      queueLimit: options.queueLimit ?? 1000,
      concurrency: Math.max(1, options.concurrency ?? 4),
      random: options.random ?? Math.random,
      logger: options.logger,
      onDelivery: options.onDelivery,
    });
  }

  /** Checks now and then every interval, in the background. */
  start(): void {
    if (this.#interval || this.#stopped) return;
    const run = () =>
      void this.tick().catch((e: Error) =>
        this.#logger?.warn({ err: e.message }, 'expiry check failed; will try again at the next interval'),
      );
    this.#interval = setInterval(run, this.#intervalMs);
    this.#interval.unref();
    run();
  }

  /** Stops checking and abandons queued and waiting deliveries; in-flight ones finish on their own. */
  stop(): void {
    this.#stopped = true;
    if (this.#interval) clearInterval(this.#interval);
    this.#interval = null;
    this.#deliveries.stop();
  }

  /** One check: lists, queues what crossed a threshold, and returns how many deliveries it queued. */
  tick(): Promise<number> {
    if (!this.#ticking) {
      this.#ticking = this.#check().finally(() => {
        this.#ticking = null;
      });
    }
    return this.#ticking;
  }

  /** Resolves when nothing is queued, in flight or waiting to retry. */
  idle(): Promise<void> {
    return this.#deliveries.idle();
  }

  async #check(): Promise<number> {
    if (this.#stopped) return 0;
    const now = this.#clock.now();
    const largest = this.#settings.thresholdsDays[0] ?? 0;
    const items = await this.#list(now, largest * 86_400);
    this.#announced.forgetUnlisted(items);
    let queued = 0;
    for (const item of items) {
      const threshold = this.#announced.crossed(item);
      if (threshold === null) continue;
      const body = JSON.stringify(expiringEvent(item, threshold));
      for (const url of this.#settings.urls) {
        if (this.#deliveries.enqueue({ url, body, id: randomUUID(), attempt: 0 })) queued++;
      }
    }
    return queued;
  }
}
