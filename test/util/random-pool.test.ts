/** Pooled random bytes: every byte handed out once, slices kept intact when the block is replaced. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fillRandom, pooledRandomBytes } from '../../src/util/random-pool.js';

describe('random pool', () => {
  test('gives the sizes asked for, never the same bytes twice, across many blocks', () => {
    const seen = new Set<string>();
    // 16-byte values over about 40 blocks of 4 KiB: a repeat would mean bytes handed out twice.
    for (let i = 0; i < 10_000; i++) {
      const bytes = pooledRandomBytes(16);
      assert.equal(bytes.length, 16);
      const hex = bytes.toString('hex');
      assert.ok(!seen.has(hex), 'a value came out twice');
      seen.add(hex);
    }
    assert.equal(pooledRandomBytes(0).length, 0);
    assert.equal(pooledRandomBytes(1000).length, 1000, 'large requests bypass the block');
  });

  test('a value keeps its bytes after its block is used up and replaced', () => {
    const first = pooledRandomBytes(32);
    const copy = Buffer.from(first);
    for (let i = 0; i < 1000; i++) pooledRandomBytes(48);
    assert.deepEqual(first, copy);
  });

  test('fillRandom writes only the range asked for', () => {
    const target = Buffer.alloc(40);
    fillRandom(target, 8, 24);
    assert.ok(target.subarray(0, 8).equals(Buffer.alloc(8)));
    assert.ok(target.subarray(32).equals(Buffer.alloc(8)));
    assert.ok(!target.subarray(8, 32).equals(Buffer.alloc(24)), 'random, not zeros');
    const big = Buffer.alloc(200);
    fillRandom(big, 0, 200);
    assert.ok(!big.equals(Buffer.alloc(200)));
  });

  test('looks uniform: each bit set about half the time', () => {
    const bytes = Buffer.concat(Array.from({ length: 2000 }, () => pooledRandomBytes(16)));
    let ones = 0;
    for (const b of bytes) for (let bit = 0; bit < 8; bit++) ones += (b >> bit) & 1;
    const share = ones / (bytes.length * 8);
    // 256,000 bits: the share is within 0.5 +- 0.005 but for a broken generator.
    assert.ok(share > 0.495 && share < 0.505, `share of ones ${share}`);
  });
});
