/** When the renewal agent acts: at the window plus a random jitter, and after failures with capped exponential backoff. */

/** The most jitter added to the renewal time: 5% of the lifetime, at most an hour. */
export function maxJitterMs(lifetimeMs: number): number {
  return Math.max(0, Math.min(lifetimeMs * 0.05, 3_600_000));
}

/**
 * Delay before retry number `failures` (1 for the first retry): start * 2^(failures-1), at most
 * `capMs`, and then a random 50-100% of it, so a fleet that failed together does not retry together.
 */
export function backoffMs(
  failures: number,
  startMs: number,
  capMs: number,
  random: () => number = Math.random,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const full = Math.min(capMs, startMs * 2 ** exponent);
  return Math.round(full * (0.5 + random() * 0.5));
}

/** The time a refusal `renewal_not_yet_open` names ("opens at 2026-...Z"), if it names one. */
export function opensAtFromDetail(detail: string | undefined): Date | null {
  const m = /opens at (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(detail ?? '');
  if (!m?.[1]) return null;
  const at = new Date(m[1]);
  return Number.isNaN(at.getTime()) ? null : at;
}
