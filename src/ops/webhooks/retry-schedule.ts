/** When a failed delivery is tried again: which answers are worth retrying, and after how long. */

export interface Backoff {
  baseMs: number;
  maxMs: number;
}

/**
 * Whether asking again may help: no answer at all, a 5xx, or 408 and 429, which say "later" like a
 * 5xx. Any other answer will not change by asking again.
 */
export function retryable(status: number | null): boolean {
  return status === null || status >= 500 || status === 408 || status === 429;
}

/**
 * The wait before the next attempt, after `attempt` attempts: about baseMs after the first, doubling
 * up to maxMs. Half fixed, half random: receivers that failed together do not get retried in lockstep.
 */
export function retryDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const ceiling = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}
