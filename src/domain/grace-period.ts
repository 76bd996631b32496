/** A grace period setting (ra.renew_after_expiry): "none", or a duration such as 30m, 12h or 7d. */

export const RENEW_AFTER_EXPIRY_ALLOWED = 'none, or a duration such as 30m, 12h or 7d (at most 90d)';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_GRACE_MS = 90 * 86_400_000;

/** "none" -> 0; "7d" -> 7 days in ms. Throws an Error saying what is accepted. */
export function parseGracePeriod(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'none' || t === '0' || t === '') return 0;
  const m = /^([0-9]{1,6})([smhd])$/.exec(t);
  const unit = m?.[2] === undefined ? undefined : UNIT_MS[m[2]];
  if (!m?.[1] || unit === undefined)
    throw new Error(`"${text.slice(0, 40)}" is not ${RENEW_AFTER_EXPIRY_ALLOWED}`);
  const ms = Number(m[1]) * unit;
  if (ms > MAX_GRACE_MS)
    throw new Error('a grace period longer than 90d is refused: enroll the host again instead');
  return ms;
}
