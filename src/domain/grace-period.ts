/** A grace period setting (ra.renew_after_expiry): "none", or a duration such as 30m, 12h or 7d. */
import { parseDuration } from '../util/durations.js';

export const RENEW_AFTER_EXPIRY_ALLOWED = 'none, or a duration such as 30m, 12h or 7d (at most 90d)';

const MAX_GRACE_MS = 90 * 86_400_000;

/** "none" -> 0; "7d" -> 7 days in ms. Throws an Error saying what is accepted. */
export function parseGracePeriod(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === '0' || t === '') return 0;
  // A unit is required: a bare "30" could as well mean days as seconds.
  const seconds = parseDuration(t, { unitRequired: true, zero: true });
  if (seconds === null) throw new Error(`"${text.slice(0, 40)}" is not ${RENEW_AFTER_EXPIRY_ALLOWED}`);
  const ms = seconds * 1000;
  if (ms > MAX_GRACE_MS)
    throw new Error('a grace period longer than 90d is refused: enroll the host again instead');
  return ms;
}
