/**
 * Identifiers that sort by when they were made: the first six octets are the milliseconds since the
 * epoch (big-endian), the rest random. A store indexes them in the order they arrive, so each insert
 * lands on the rightmost page of the index instead of a random one; with random identifiers a busy
 * commit rewrote one index page per row (docs/benchmarks.md, "What would help").
 */
import { fillRandom } from './random-pool.js';

/** Octets of the time prefix: milliseconds fit in 47 bits until the year 6429. */
export const TIME_PREFIX_OCTETS = 6;

/** `size` octets: the time prefix, then `size - 6` octets of CSPRNG output. */
export function timeOrderedBytes(size: number, now: number = Date.now()): Buffer {
  if (!Number.isSafeInteger(size) || size <= TIME_PREFIX_OCTETS) {
    throw new RangeError(`a time-ordered id needs more than ${TIME_PREFIX_OCTETS} octets, got ${size}`);
  }
  if (!Number.isSafeInteger(now) || now < 0 || now >= 2 ** 47) {
    throw new RangeError(`the time ${now} does not fit a time-ordered id`);
  }
  const bytes = Buffer.allocUnsafe(size);
  bytes.writeUIntBE(now, 0, TIME_PREFIX_OCTETS);
  fillRandom(bytes, TIME_PREFIX_OCTETS, size - TIME_PREFIX_OCTETS);
  return bytes;
}
