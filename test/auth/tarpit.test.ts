/** The tarpit holds throttled answers for at most its delay and the caller's Retry-After, within its bounds. */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import { Tarpit } from '../../src/auth/tarpit.js';

async function timed(p: Promise<void>): Promise<number> {
  const start = performance.now();
  await p;
  return performance.now() - start;
}

describe('Tarpit', () => {
  test('holds for its delay, and never longer than the Retry-After the caller was given', async () => {
    const tarpit = new Tarpit({ delayMs: () => 200 });
    const held = tarpit.hold('192.0.2.1', 60);
    assert.equal(tarpit.holding, 1);
    assert.ok((await timed(held)) >= 190);
    assert.equal(tarpit.holding, 0);
    // Told to wait 0.05 s: held no longer than that.
    const short = tarpit.hold('192.0.2.1', 0.05);
    assert.equal(tarpit.holding, 1);
    await short;
    assert.equal(tarpit.holding, 0);
  });

  test('a delay of 0 holds nothing', async () => {
    let delay = 0;
    const tarpit = new Tarpit({ delayMs: () => delay });
    const p = tarpit.hold('192.0.2.1', 60);
    assert.equal(tarpit.holding, 0);
    await p;
    // The setting is read on each use.
    delay = 50;
    const q = tarpit.hold('192.0.2.1', 60);
    assert.equal(tarpit.holding, 1);
    await q;
  });

  test('holds at most maxPerAddress per address (an IPv6 /64 is one) and maxHeld in all', async () => {
    const tarpit = new Tarpit({ delayMs: () => 100, maxPerAddress: 3, maxHeld: 5 });
    const held = [
      tarpit.hold('2001:db8::1', 60),
      tarpit.hold('2001:db8::2', 60),
      tarpit.hold('2001:db8::3', 60),
      tarpit.hold('2001:db8::4', 60), // the same /64: past the per-address bound, not held
    ];
    assert.equal(tarpit.holding, 3);
    held.push(tarpit.hold('192.0.2.7', 60), tarpit.hold('192.0.2.8', 60));
    assert.equal(tarpit.holding, 5);
    held.push(tarpit.hold('192.0.2.9', 60)); // past the bound in all
    assert.equal(tarpit.holding, 5);
    await Promise.all(held);
    assert.equal(tarpit.holding, 0);
    // Counts are given back: the /64 may be held again.
    const again = tarpit.hold('2001:db8::5', 60);
    assert.equal(tarpit.holding, 1);
    await again;
  });
});
