/**
 * Holds the answer to a throttled attempt for a moment before it is sent. A client that honours
 * Retry-After never notices; a script or a guesser that ignores it and retries at once now waits
 * on each answer, so a flood of throttled attempts from a few connections slows itself down
 * instead of spending the server's event loop on 429s that other clients queue behind.
 *
 * Holding an answer costs a timer and an open request, so both are bounded: per address (an IPv6
 * /64 counts as one, as for the throttle) and in all. Past either bound the answer goes at once:
 * the tarpit never refuses anything or delays an answer that was not already a 429.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { clientAddressUnit } from '../util/ip.js';

export interface TarpitOptions {
  /** How long to hold a throttled answer, in ms (read on each use, so a settings change applies); 0 = never. */
  delayMs: () => number;
  /** Answers held at once from one address; default 64. */
  maxPerAddress?: number;
  /** Answers held at once in all; default 1,024. */
  maxHeld?: number;
}

export class Tarpit {
  private readonly maxPerAddress: number;
  private readonly maxHeld: number;
  private readonly perAddress = new Map<string, number>();
  private held = 0;

  constructor(private readonly opts: TarpitOptions) {
    this.maxPerAddress = opts.maxPerAddress ?? 64;
    this.maxHeld = opts.maxHeld ?? 1024;
  }

  /** Answers held right now (for tests and metrics). */
  get holding(): number {
    return this.held;
  }

  /**
   * Waits before a throttled answer is sent: the configured delay, never longer than the caller
   * was told to wait (`retryAfterSeconds`), and not at all past the bounds.
   */
  async hold(address: string, retryAfterSeconds: number): Promise<void> {
    const delay = Math.min(this.opts.delayMs(), retryAfterSeconds * 1000);
    if (!(delay > 0) || this.held >= this.maxHeld) return;
    const key = clientAddressUnit(address) ?? address.slice(0, 64);
    const mine = this.perAddress.get(key) ?? 0;
    if (mine >= this.maxPerAddress) return;
    this.perAddress.set(key, mine + 1);
    this.held++;
    try {
      await sleep(delay);
    } finally {
      this.held--;
      const left = (this.perAddress.get(key) ?? 1) - 1;
      if (left <= 0) this.perAddress.delete(key);
      else this.perAddress.set(key, left);
    }
  }
}
