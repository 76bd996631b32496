/** The one way a length of time is told to a person: in refusals, warnings, `explain` and the CLI. */

const MINUTE = 60;
const HOUR = 3600;
const DAY = 86_400;

/**
 * "45 seconds", "2 minutes", "3 hours", "30 days": the largest whole unit, switching up only at two of
 * it so that "90 seconds" is not rounded to "1 minute". Callers say "ago" or "in"; the sign is
 * dropped, and a length that is not a finite number reads "moments".
 */
export function describeSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return 'moments';
  const s = Math.abs(Math.trunc(seconds));
  const [n, unit] =
    s >= 2 * DAY
      ? [Math.floor(s / DAY), 'day']
      : s >= 2 * HOUR
        ? [Math.floor(s / HOUR), 'hour']
        : s >= 2 * MINUTE
          ? [Math.floor(s / MINUTE), 'minute']
          : [s, 'second'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** How long from `from` to `to`, never negative. */
export function describeBetween(from: Date, to: Date): string {
  return describeSeconds(Math.max(0, (to.getTime() - from.getTime()) / 1000));
}
