/**
 * Which thresholds each expiring item was already announced for, so an item is announced once per
 * threshold. Kept in memory only: a restart announces each item's current threshold once more, and a
 * duplicate is better than a silence.
 */
import type { ExpiringItem } from '../expiry.js';

export class AnnouncedThresholds {
  readonly #thresholdsDays: readonly number[];
  /** kind + id + threshold that were announced. */
  readonly #announced = new Set<string>();

  /** thresholdsDays from the largest to the smallest, as parseThresholds returns them. */
  constructor(thresholdsDays: readonly number[]) {
    this.#thresholdsDays = thresholdsDays;
  }

  /** Forgets items no longer listed (renewed, revoked, removed), so memory follows the listing. */
  forgetUnlisted(items: readonly ExpiringItem[]): void {
    const listed = new Set(items.map((i) => `${i.kind}:${i.id}`));
    for (const key of this.#announced) {
      if (!listed.has(key.slice(0, key.lastIndexOf(':')))) this.#announced.delete(key);
    }
  }

  /**
   * The smallest threshold this item is inside and has not been announced for, or null; it counts
   * as announced from now on. Larger thresholds it is also inside are marked too: an item first seen
   * 3 days out is announced once (at 7 days), not at 30 and 7 at the same moment.
   */
  crossed(item: ExpiringItem): number | null {
    const inside = this.#thresholdsDays.filter((d) => item.secondsLeft <= d * 86_400);
    const smallest = inside[inside.length - 1];
    if (smallest === undefined) return null;
    const key = (d: number) => `${item.kind}:${item.id}:${d}`;
    if (this.#announced.has(key(smallest))) return null;
    for (const d of inside) this.#announced.add(key(d));
    return smallest;
  }
}
