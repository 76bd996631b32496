/**
 * Throttling of failed authentication attempts (NIST SP 800-63B §5.2.2): a growing delay after a
 * few free failures, never a permanent lockout. The delay becomes the `Retry-After` of a 429
 * response (RFC 6585 §4).
 *
 * Two keys are counted: the client address alone (one address guessing many accounts) and the pair
 * (account, address) (one address guessing one account). There is deliberately no account-wide
 * counter: if failures for "admin" from anywhere slowed every login as "admin", any stranger could
 * keep the real administrator out by sending wrong passwords. The trade-off is that a guesser with
 * many addresses gets the per-address allowance from each of them; what bounds distributed
 * guessing is that allowance per address (per /64 for IPv6) together with the password policy,
 * which makes the few guesses each address gets worthless against a password that is not common.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../types.js';
import { clientAddressUnit } from '../util/ip.js';

export interface FailureLimiterOptions {
  clock: Clock;
  /** Failures within the window before any delay; default 5. */
  freeFailures?: number;
  /**
   * The same for the address counter; default `freeFailures`. Since every failure of a pair also
   * counts for its address, the pair limit only does anything when this is larger (an office behind
   * one NAT address has many users, each of whom mistypes now and then).
   */
  addressFreeFailures?: number;
  /** Wait after the last free failure, doubled for each further one; default 1. */
  baseDelaySeconds?: number;
  /** Default 900 (15 minutes). */
  maxDelaySeconds?: number;
  /** Failures older than this are forgotten, so no wait outlasts it; default 900. */
  windowSeconds?: number;
  /** Keys remembered; beyond this the least recently failed is forgotten. Default 100,000. */
  maxEntries?: number;
}

/** Account names longer than this are keyed by their SHA-256, so an attacker's name cannot use memory. */
const MAX_ACCOUNT_KEY_LENGTH = 128;
const MAX_ADDRESS_KEY_LENGTH = 64;
/** Bounds the failure times kept per key (memory is maxEntries times this). */
const MAX_FREE_FAILURES = 100;

export class FailureLimiter {
  private readonly clock: Clock;
  private readonly freeFailures: number;
  private readonly addressFreeFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  /**
   * Doublings of the base delay that reach the cap. A key keeps only its latest
   * `free + doublings + 1` failures: with that many in the window the delay is at its cap already,
   * so older ones cannot change it.
   */
  private readonly doublings: number;
  /** Key -> times of its latest failures (ms, ascending). Map order: least recently failed first. */
  private readonly failures = new Map<string, number[]>();
  /**
   * Key -> attempts being verified right now. They count as failures until they end: otherwise a
   * client with many requests in flight gets many guesses through before the first failure is
   * recorded (argon2 takes tens of milliseconds).
   */
  private readonly inflight = new Map<string, number>();

  constructor(opts: FailureLimiterOptions) {
    this.clock = opts.clock;
    this.freeFailures = requireNumber('freeFailures', opts.freeFailures ?? 5, 0, true, MAX_FREE_FAILURES);
    this.addressFreeFailures = requireNumber(
      'addressFreeFailures',
      opts.addressFreeFailures ?? this.freeFailures,
      0,
      true,
      MAX_FREE_FAILURES,
    );
    this.baseDelayMs = requireNumber('baseDelaySeconds', opts.baseDelaySeconds ?? 1, 0.001) * 1000;
    this.maxDelayMs = requireNumber('maxDelaySeconds', opts.maxDelaySeconds ?? 900, 0.001) * 1000;
    this.windowMs = requireNumber('windowSeconds', opts.windowSeconds ?? 900, 0.001) * 1000;
    this.maxEntries = requireNumber('maxEntries', opts.maxEntries ?? 100_000, 1, true);
    this.doublings = Math.max(0, Math.ceil(Math.log2(this.maxDelayMs / this.baseDelayMs)));
  }

  /** 0 when the attempt may proceed, else whole seconds to wait (for Retry-After). */
  retryAfter(address: string, account: string | null): number {
    const now = this.clock.now().getTime();
    const addressKey = addressKeyOf(address);
    let waitMs = this.waitMs(`addr ${addressKey}`, this.addressFreeFailures, now);
    if (account !== null) {
      waitMs = Math.max(waitMs, this.waitMs(pairKey(account, addressKey), this.freeFailures, now));
    }
    return waitMs <= 0 ? 0 : Math.ceil(waitMs / 1000);
  }

  recordFailure(address: string, account: string | null): void {
    const now = this.clock.now().getTime();
    const addressKey = addressKeyOf(address);
    this.add(`addr ${addressKey}`, this.addressFreeFailures, now);
    if (account !== null) this.add(pairKey(account, addressKey), this.freeFailures, now);
  }

  /**
   * Marks an attempt as being verified; call the returned function when it ends (success or
   * failure is recorded separately). Bounded by the number of requests the server holds.
   */
  begin(address: string, account: string | null): () => void {
    const addressKey = addressKeyOf(address);
    const keys =
      account === null ? [`addr ${addressKey}`] : [`addr ${addressKey}`, pairKey(account, addressKey)];
    for (const key of keys) this.inflight.set(key, (this.inflight.get(key) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      for (const key of keys) {
        const left = (this.inflight.get(key) ?? 1) - 1;
        if (left <= 0) this.inflight.delete(key);
        else this.inflight.set(key, left);
      }
    };
  }

  /** Clears the (account, address) pair only: the address may still be guessing other accounts. */
  recordSuccess(address: string, account: string): void {
    this.failures.delete(pairKey(account, addressKeyOf(address)));
  }

  /** Number of keys held, for tests and metrics. */
  get size(): number {
    return this.failures.size;
  }

  private waitMs(key: string, freeFailures: number, now: number): number {
    const times = this.recent(key, now);
    const pending = this.inflight.get(key) ?? 0;
    const failed = times?.length ?? 0;
    if (failed + pending < freeFailures) return 0;
    // Attempts still being verified may all fail: once they would use up the free ones, wait.
    if (failed < freeFailures) return this.baseDelayMs;
    const last = times?.[times.length - 1] ?? now;
    const exponent = failed - freeFailures;
    const remaining = last + Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** exponent) - now;
    if (remaining > 0) return remaining;
    // The delay has expired, which buys exactly one verification: while it is in flight, every
    // other attempt waits for the delay that follows should it fail. Without this, all the guesses
    // that arrive together when a delay expires would be verified at once.
    if (pending > 0) return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (exponent + 1));
    return 0;
  }

  /** The key's failures within the window; forgets the key when none are. */
  private recent(key: string, now: number): number[] | undefined {
    const times = this.failures.get(key);
    if (times === undefined) return undefined;
    const cutoff = now - this.windowMs;
    let firstRecent = 0;
    while (firstRecent < times.length && (times[firstRecent] ?? 0) <= cutoff) firstRecent++;
    if (firstRecent === times.length) {
      this.failures.delete(key);
      return undefined;
    }
    if (firstRecent > 0) times.splice(0, firstRecent);
    return times;
  }

  private add(key: string, freeFailures: number, now: number): void {
    const times = this.recent(key, now) ?? [];
    times.push(now);
    const kept = freeFailures + this.doublings + 1;
    if (times.length > kept) times.splice(0, times.length - kept);
    // Re-insert so Map order stays "least recently failed first" for eviction.
    this.failures.delete(key);
    this.failures.set(key, times);
    while (this.failures.size > this.maxEntries) {
      const oldest = this.failures.keys().next();
      if (oldest.done) break;
      this.failures.delete(oldest.value);
    }
  }
}

/**
 * The unit an address is counted in. IPv6 by its /64, the prefix one subscriber usually gets (RFC
 * 6177), so rotating through the addresses of one's own prefix gains nothing. An IPv4-mapped IPv6
 * address (RFC 4291 §2.5.5.2, what a dual-stack socket reports) counts as the IPv4 address.
 */
export function addressKeyOf(address: string): string {
  // Not an IP address (a Unix socket, a test name): counted as given, bounded.
  return clientAddressUnit(address) ?? `other:${address.slice(0, MAX_ADDRESS_KEY_LENGTH)}`;
}

function pairKey(account: string, addressKey: string): string {
  const name =
    account.length <= MAX_ACCOUNT_KEY_LENGTH
      ? `n:${account}`
      : `h:${createHash('sha256').update(account).digest('base64url')}`;
  return `pair ${addressKey}\0${name}`;
}

function requireNumber(
  name: string,
  value: number,
  min: number,
  integer = false,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isSafeInteger(value))) {
    throw new RangeError(
      `${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${value}`,
    );
  }
  return value;
}
