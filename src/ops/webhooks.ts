/**
 * Expiry webhooks: every interval, list what expires soon and, for each item that crossed a
 * threshold (e.g. 30, 7 and 1 days left) not yet announced, POST a signed JSON event to each URL.
 * Deliveries retry with exponential backoff on network errors and 5xx, give up on other 4xx, and
 * never hold up the caller: tick() only lists and queues.
 *
 * What was announced is remembered in memory only, so a restart announces each item's current
 * threshold once more: a duplicate is better than a silence.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isAbsolute, resolve } from 'node:path';
import type { Clock } from '../types.js';
import type { ExpiringItem } from './expiry.js';

export {
  MAX_THRESHOLDS,
  MAX_WEBHOOK_URLS,
  MIN_SECRET_BYTES,
  parseThresholds,
  parseWebhookUrls,
} from '../config/webhook-settings.js';

import { MIN_SECRET_BYTES, parseThresholds, parseWebhookUrls } from '../config/webhook-settings.js';

export interface WebhookSettings {
  urls: URL[];
  secret: Buffer;
  thresholdsDays: number[];
}

/**
 * The webhook settings of a data directory, or null when no URL is configured. Fails closed: with
 * URLs but no readable, long enough key it throws rather than send unsigned events.
 */
export function loadWebhookSettings(
  section: { urls: string; secret_file: string; thresholds_days: string },
  dataDir: string,
): WebhookSettings | null {
  const urls = parseWebhookUrls(section.urls);
  if (urls.length === 0) return null;
  const path = isAbsolute(section.secret_file) ? section.secret_file : resolve(dataDir, section.secret_file);
  let secret: Buffer;
  try {
    secret = Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
  } catch (e) {
    throw new Error(
      `webhooks.urls is set but the HMAC key ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); create it with \`openssl rand -hex 32 > ${path}; chmod 600 ${path}\``,
    );
  }
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(
      `the HMAC key in ${path} is shorter than ${MIN_SECRET_BYTES} bytes; use \`openssl rand -hex 32\``,
    );
  }
  return { urls, secret, thresholdsDays: parseThresholds(section.thresholds_days) };
}

/** The Certmaster-Signature value: "sha256=" and the hex HMAC-SHA256 of the exact body bytes. */
export function signBody(secret: Buffer, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The JSON body of one event. */
export interface ExpiringEvent {
  event: 'expiring';
  kind: ExpiringItem['kind'];
  id: string;
  name: string;
  expires_at: string;
  /** Negative once expired. */
  seconds_left: number;
  threshold_days: number;
}

export type DeliveryOutcome = 'delivered' | 'failed' | 'dropped';

export interface NotifierLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

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

interface Delivery {
  url: URL;
  body: string;
  id: string;
  attempt: number;
}

/** A URL as it may be logged: no credentials, no query string (either may carry a secret). */
function shownUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

export class ExpiryNotifier {
  readonly #o: Required<
    Pick<
      ExpiryNotifierOptions,
      'intervalMs' | 'maxAttempts' | 'timeoutMs' | 'queueLimit' | 'concurrency' | 'random'
    >
  > & { backoff: { baseMs: number; maxMs: number } };
  readonly #settings: WebhookSettings;
  readonly #list: ExpiryNotifierOptions['list'];
  readonly #clock: Clock;
  readonly #logger: NotifierLogger | undefined;
  readonly #onDelivery: ((outcome: DeliveryOutcome) => void) | undefined;
  /** kind + id + threshold that were announced. */
  readonly #announced = new Set<string>();
  readonly #queue: Delivery[] = [];
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  #inFlight = 0;
  #interval: NodeJS.Timeout | null = null;
  #ticking: Promise<number> | null = null;
  #stopped = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: ExpiryNotifierOptions) {
    this.#settings = options.settings;
    this.#list = options.list;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#onDelivery = options.onDelivery;
    this.#o = {
      intervalMs: options.intervalMs ?? 3_600_000,
      backoff: options.backoff ?? { baseMs: 1000, maxMs: 300_000 },
      maxAttempts: Math.max(1, options.maxAttempts ?? 8),
      timeoutMs: options.timeoutMs ?? 10_000,
      queueLimit: options.queueLimit ?? 1000,
      concurrency: Math.max(1, options.concurrency ?? 4),
      random: options.random ?? Math.random,
    };
  }

  /** Checks now and then every interval, in the background. */
  start(): void {
    if (this.#interval || this.#stopped) return;
    const run = () =>
      void this.tick().catch((e: Error) =>
        this.#logger?.warn({ err: e.message }, 'expiry check failed; will try again at the next interval'),
      );
    this.#interval = setInterval(run, this.#o.intervalMs);
    this.#interval.unref();
    run();
  }

  /** Stops checking and abandons queued and waiting deliveries; in-flight ones finish on their own. */
  stop(): void {
    this.#stopped = true;
    if (this.#interval) clearInterval(this.#interval);
    this.#interval = null;
    for (const t of this.#retryTimers) clearTimeout(t);
    this.#retryTimers.clear();
    this.#queue.length = 0;
    this.#settleIdle();
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
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolveIdle) => this.#idleWaiters.push(resolveIdle));
  }

  async #check(): Promise<number> {
    if (this.#stopped) return 0;
    const now = this.#clock.now();
    const largest = this.#settings.thresholdsDays[0] ?? 0;
    const items = await this.#list(now, largest * 86_400);
    const listed = new Set(items.map((i) => `${i.kind}:${i.id}`));
    // Forget items no longer listed (renewed, revoked, removed), so memory follows the listing.
    for (const key of this.#announced) {
      if (!listed.has(key.slice(0, key.lastIndexOf(':')))) this.#announced.delete(key);
    }
    let queued = 0;
    for (const item of items) {
      const threshold = this.#crossed(item);
      if (threshold === null) continue;
      const event: ExpiringEvent = {
        event: 'expiring',
        kind: item.kind,
        id: item.id,
        name: item.name,
        expires_at: item.expiresAt.toISOString(),
        seconds_left: item.secondsLeft,
        threshold_days: threshold,
      };
      const body = JSON.stringify(event);
      for (const url of this.#settings.urls) {
        if (this.#enqueue({ url, body, id: randomUUID(), attempt: 0 })) queued++;
      }
    }
    return queued;
  }

  /**
   * The smallest threshold this item is inside and has not been announced for, or null. Larger
   * thresholds it is also inside are marked too: an item first seen 3 days out is announced once
   * (at 7 days), not at 30 and 7 at the same moment.
   */
  #crossed(item: ExpiringItem): number | null {
    const inside = this.#settings.thresholdsDays.filter((d) => item.secondsLeft <= d * 86_400);
    const smallest = inside[inside.length - 1];
    if (smallest === undefined) return null;
    const key = (d: number) => `${item.kind}:${item.id}:${d}`;
    if (this.#announced.has(key(smallest))) return null;
    for (const d of inside) this.#announced.add(key(d));
    return smallest;
  }

  #pending(): number {
    return this.#queue.length + this.#retryTimers.size + this.#inFlight;
  }

  #enqueue(delivery: Delivery): boolean {
    if (this.#stopped) return false;
    if (this.#pending() >= this.#o.queueLimit) {
      this.#logger?.warn({ url: shownUrl(delivery.url) }, 'webhook queue full; event dropped');
      this.#onDelivery?.('dropped');
      return false;
    }
    this.#queue.push(delivery);
    this.#pump();
    return true;
  }

  #pump(): void {
    while (this.#inFlight < this.#o.concurrency && this.#queue.length > 0) {
      const delivery = this.#queue.shift() as Delivery;
      this.#inFlight++;
      void this.#attempt(delivery).finally(() => {
        this.#inFlight--;
        this.#pump();
        this.#settleIdle();
      });
    }
  }

  async #attempt(delivery: Delivery): Promise<void> {
    delivery.attempt++;
    const result = await post(delivery, this.#settings.secret, this.#o.timeoutMs);
    const where = { url: shownUrl(delivery.url), delivery: delivery.id, attempt: delivery.attempt };
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      this.#logger?.info({ ...where, status: result.status }, 'webhook delivered');
      this.#onDelivery?.('delivered');
      return;
    }
    // 408 and 429 say "later", like a 5xx; any other answer will not change by asking again.
    const retryable =
      result.status === null || result.status >= 500 || result.status === 408 || result.status === 429;
    if (!retryable || delivery.attempt >= this.#o.maxAttempts || this.#stopped) {
      this.#logger?.warn(
        { ...where, status: result.status, error: result.error },
        retryable
          ? 'webhook delivery failed; giving up after the last attempt'
          : 'webhook refused; not retried',
      );
      this.#onDelivery?.('failed');
      return;
    }
    const { baseMs, maxMs } = this.#o.backoff;
    const ceiling = Math.min(maxMs, baseMs * 2 ** (delivery.attempt - 1));
    // Half fixed, half random: receivers that failed together do not get retried in lockstep.
    const delay = Math.round(ceiling / 2 + (ceiling / 2) * this.#o.random());
    this.#logger?.info(
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

/** One POST: the status, or null and why when no answer came. Never throws. */
function post(
  delivery: Delivery,
  secret: Buffer,
  timeoutMs: number,
): Promise<{ status: number | null; error?: string }> {
  const body = Buffer.from(delivery.body, 'utf8');
  const transport = delivery.url.protocol === 'https:' ? https : http;
  return new Promise((done) => {
    const request = transport.request(delivery.url, {
      method: 'POST',
      // A fresh connection each time: deliveries are rare, and no idle socket outlives stop().
      agent: false,
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': 'certmaster-webhooks',
        'certmaster-signature': signBody(secret, body),
        'certmaster-delivery': delivery.id,
      },
    });
    request.on('response', (response) => {
      // Only the status matters; drain the body so the socket closes cleanly.
      response.on('error', () => undefined);
      response.resume();
      done({ status: response.statusCode ?? null });
    });
    request.on('error', (e: NodeJS.ErrnoException) => done({ status: null, error: e.code ?? e.name }));
    request.end(body);
  });
}
