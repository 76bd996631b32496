/**
 * Random bytes for the hot paths (request ids, Digest nonces, token secrets and ids), drawn from a
 * block of CSPRNG output fetched a few KiB at a time. Each `randomBytes` call costs an OpenSSL
 * RAND_bytes round trip whatever its size: profiled under load it took about 15 µs per call on the
 * event loop, a third of an unauthenticated 401's time (docs/benchmarks-auth.md). Node's own
 * `crypto.randomUUID` keeps such a cache for the same reason.
 *
 * Every byte is handed out once: a used-up block is replaced by a new one, never refilled, and bytes
 * are zeroed in the block as they are handed out, so a token secret drawn from it is not left behind
 * there (in a heap snapshot, say). The bytes are the same CSPRNG's output, only fetched ahead.
 */
import { randomFillSync } from 'node:crypto';

const BLOCK_BYTES = 4096;
/** Larger requests go straight to the CSPRNG: they are rare, and would drain the block. */
const MAX_POOLED = 64;

let block = Buffer.alloc(0);
let used = 0;

function take(size: number): number {
  if (used + size > block.length) {
    // allocUnsafeSlow: a block of its own, not a slice of Node's shared small-buffer pool.
    block = randomFillSync(Buffer.allocUnsafeSlow(BLOCK_BYTES));
    used = 0;
  }
  const start = used;
  used += size;
  return start;
}

/** `size` random bytes, as a new Buffer. */
export function pooledRandomBytes(size: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`invalid size ${size}`);
  if (size > MAX_POOLED) return randomFillSync(Buffer.alloc(size));
  const start = take(size);
  const bytes = Buffer.from(block.subarray(start, start + size));
  block.fill(0, start, start + size);
  return bytes;
}

/** Writes `size` random bytes into `target` at `offset`, with no allocation. */
export function fillRandom(target: Buffer, offset: number, size: number): void {
  if (size > MAX_POOLED) {
    randomFillSync(target, offset, size);
    return;
  }
  const start = take(size);
  block.copy(target, offset, start, start + size);
  block.fill(0, start, start + size);
}
