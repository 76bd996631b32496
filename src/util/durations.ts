/**
 * The one way a length of time is told to a person (in refusals, warnings, `explain` and the CLI), and
 * the one way one is read from a setting or a flag.
 */

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/**
 * "45 seconds", "2 minutes", "3 hours", "30 days": the largest whole unit, switching up only at two of
 * it so that "90 seconds" is not rounded to "1 minute". Callers say "ago" or "in"; the sign is
 * dropped, and a length that is not a finite number reads "moments".
 *
 * `exact` tells a length a person gave back unrounded ("36 hours", "1 day", "90 seconds"): the largest
 * of day, hour and minute that divides it, else seconds (`expiring --within` echoing its window).
 */
export function describeSeconds(seconds: number, options: { exact?: boolean } = {}): string {
  if (!Number.isFinite(seconds)) return 'moments';
  const s = Math.abs(Math.trunc(seconds));
  const fits =
    options.exact === true ? (size: number) => s > 0 && s % size === 0 : (size: number) => s >= 2 * size;
  const [n, unit] = fits(DAY)
    ? [Math.floor(s / DAY), 'day']
    : fits(HOUR)
      ? [Math.floor(s / HOUR), 'hour']
      : fits(MINUTE)
        ? [Math.floor(s / MINUTE), 'minute']
        : [s, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** How long from `from` to `to`, never negative. */
export function describeBetween(from: Date, to: Date): string {
  return describeSeconds(Math.max(0, (to.getTime() - from.getTime()) / 1000));
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: MINUTE, h: HOUR, d: DAY };

/**
 * The one reader of a length of time: "90s", "15m", "12h", "7d" (a space before the unit allowed), or a
 * bare number of seconds. Seconds, or null when the text is not such a length. Units are lower case
 * ("1M" is not a month); zero is refused unless `zero`, a bare number when `unitRequired`.
 */
export function parseDuration(
  text: string,
  options: { unitRequired?: boolean; zero?: boolean } = {},
): number | null {
  const m = /^(\d{1,9})\s*([smhd]?)$/.exec(text.trim());
  if (!m) return null;
  const unit = m[2] ?? '';
  if (unit === '' && options.unitRequired === true) return null;
  const n = Number(m[1]);
  if (n === 0 && options.zero !== true) return null;
  return n * (UNIT_SECONDS[unit] ?? 1);
}
