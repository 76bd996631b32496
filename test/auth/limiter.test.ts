import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addressKeyOf, FailureLimiter, type FailureLimiterOptions } from '../../src/auth/limiter.js';
import { MovableClock } from '../helpers/clock.js';

const A = '198.51.100.7';
const B = '203.0.113.9';

function setup(opts: Partial<FailureLimiterOptions> = {}): { clock: MovableClock; limiter: FailureLimiter } {
  const clock = new MovableClock();
  return { clock, limiter: new FailureLimiter({ clock, ...opts }) };
}

function fail(limiter: FailureLimiter, times: number, address: string, account: string | null): void {
  for (let i = 0; i < times; i++) limiter.recordFailure(address, account);
}

describe('FailureLimiter', () => {
  it('lets the first freeFailures failures through without delay', () => {
    const { limiter } = setup();
    assert.equal(limiter.retryAfter(A, 'alice'), 0);
    fail(limiter, 4, A, 'alice');
    assert.equal(limiter.retryAfter(A, 'alice'), 0);
    fail(limiter, 1, A, 'alice');
    assert.equal(limiter.retryAfter(A, 'alice'), 1);
  });

  it('doubles the delay with each further failure, counted from the last failure', () => {
    const { clock, limiter } = setup();
    fail(limiter, 5, A, 'alice');
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      const wait = limiter.retryAfter(A, 'alice');
      waits.push(wait);
      clock.advance(wait);
      assert.equal(limiter.retryAfter(A, 'alice'), 0, 'the wait is over');
      limiter.recordFailure(A, 'alice');
    }
    assert.deepEqual(waits, [1, 2, 4, 8, 16, 32, 64, 128]);
  });

  it('counts down while the clock moves and rounds up to whole seconds', () => {
    const { clock, limiter } = setup({ baseDelaySeconds: 10 });
    fail(limiter, 6, A, null);
    assert.equal(limiter.retryAfter(A, null), 20);
    clock.advance(12.5);
    assert.equal(limiter.retryAfter(A, null), 8);
    clock.advance(7.4);
    assert.equal(limiter.retryAfter(A, null), 1);
    clock.advance(0.1);
    assert.equal(limiter.retryAfter(A, null), 0);
  });

  it('caps the delay at maxDelaySeconds: never a lockout', () => {
    const { clock, limiter } = setup();
    fail(limiter, 40, A, 'alice');
    assert.equal(limiter.retryAfter(A, 'alice'), 900);
    clock.advance(900);
    assert.equal(limiter.retryAfter(A, 'alice'), 0);
  });

  it('forgets failures older than the window', () => {
    const { clock, limiter } = setup({ windowSeconds: 900 });
    fail(limiter, 3, A, 'alice');
    clock.advance(600);
    fail(limiter, 2, A, 'alice');
    assert.equal(limiter.retryAfter(A, 'alice'), 1, '5 failures in the window');
    clock.advance(301);
    assert.equal(limiter.retryAfter(A, 'alice'), 0, 'the first 3 are older than 900 s');
    fail(limiter, 2, A, 'alice');
    assert.equal(limiter.retryAfter(A, 'alice'), 0, '4 in the window');
    fail(limiter, 1, A, 'alice');
    assert.equal(limiter.retryAfter(A, 'alice'), 1, '5 in the window again');
    clock.advance(901);
    assert.equal(limiter.retryAfter(A, 'alice'), 0);
    assert.equal(limiter.size, 0, 'forgotten keys are dropped');
  });

  it('clears the (account, address) pair on success but not the address counter', () => {
    const { limiter } = setup({ freeFailures: 5, addressFreeFailures: 20 });
    fail(limiter, 5, A, 'alice');
    assert.equal(limiter.retryAfter(A, 'alice'), 1, 'the pair is throttled');
    assert.equal(limiter.retryAfter(A, 'bob'), 0, 'the address has 15 failures to go');
    limiter.recordSuccess(A, 'alice');
    assert.equal(limiter.retryAfter(A, 'alice'), 0);
    // The 5 failures still count for the address: 15 more and it is throttled.
    for (let i = 0; i < 15; i++) limiter.recordFailure(A, `user${i}`);
    assert.equal(limiter.retryAfter(A, 'carol'), 1);
    assert.equal(limiter.retryAfter(A, null), 1);
  });

  it('a success does not let an address that guessed too much through (same limits)', () => {
    const { limiter } = setup();
    fail(limiter, 5, A, 'alice');
    limiter.recordSuccess(A, 'alice');
    assert.equal(limiter.retryAfter(A, 'alice'), 1);
  });

  it('never slows the same account from another address', () => {
    const { limiter } = setup();
    fail(limiter, 40, A, 'admin');
    assert.equal(limiter.retryAfter(A, 'admin'), 900);
    assert.equal(limiter.retryAfter(B, 'admin'), 0);
    assert.equal(limiter.retryAfter('2001:db8::1', 'admin'), 0);
  });

  it('counts an address without an account, and an address for every account it tries', () => {
    const { limiter } = setup();
    fail(limiter, 5, A, null);
    assert.equal(limiter.retryAfter(A, null), 1);
    assert.equal(limiter.retryAfter(A, 'anyone'), 1);
    assert.equal(limiter.retryAfter(B, 'anyone'), 0);
  });

  it('aggregates IPv6 addresses to their /64', () => {
    const { limiter } = setup();
    for (const host of [
      '2001:db8:1:2::1',
      '2001:db8:1:2::2',
      '2001:db8:1:2:ffff::9',
      '2001:DB8:1:2:a:b:c:d',
    ]) {
      limiter.recordFailure(host, null);
    }
    limiter.recordFailure('2001:0db8:0001:0002:0000:0000:0000:0005', null);
    assert.equal(limiter.retryAfter('2001:db8:1:2::abcd', null), 1);
    assert.equal(limiter.retryAfter('2001:db8:1:3::1', null), 0, 'the next /64 is someone else');
  });

  it('counts an IPv4-mapped IPv6 address as the IPv4 address', () => {
    const { limiter } = setup();
    fail(limiter, 3, '::ffff:192.0.2.7', 'alice');
    fail(limiter, 2, '192.0.2.7', 'alice');
    assert.equal(limiter.retryAfter('192.0.2.7', 'alice'), 1);
    assert.equal(limiter.retryAfter('::ffff:c000:207', 'alice'), 1);
  });

  it('keys addresses canonically', () => {
    assert.equal(addressKeyOf('192.0.2.7'), '192.0.2.7');
    assert.equal(addressKeyOf('::ffff:192.0.2.7'), '192.0.2.7');
    assert.equal(addressKeyOf('::FFFF:C000:0207'), '192.0.2.7');
    assert.equal(addressKeyOf('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(addressKeyOf('::1'), '0:0:0:0::/64');
    assert.equal(addressKeyOf('fe80::1%eth0'), 'fe80:0:0:0::/64');
    assert.equal(addressKeyOf('2001:db8:1:2:3:4:192.0.2.1'), '2001:db8:1:2::/64');
    assert.equal(addressKeyOf('::192.0.2.1'), '0:0:0:0::/64', 'IPv4-compatible (deprecated) is not mapped');
    assert.equal(addressKeyOf(`x${'y'.repeat(1000)}`).length, 'other:'.length + 64);
  });

  it('keeps at most maxEntries keys, forgetting the least recently failed', () => {
    const { limiter } = setup({ maxEntries: 100 });
    fail(limiter, 5, A, null);
    for (let i = 0; i < 1000; i++) limiter.recordFailure(`10.0.${i >> 8}.${i & 0xff}`, `user${i}`);
    assert.ok(limiter.size <= 100, `size ${limiter.size}`);
    assert.equal(limiter.retryAfter(A, null), 0, 'the oldest key was evicted');
    fail(limiter, 4, '10.0.3.231', null);
    assert.equal(limiter.retryAfter('10.0.3.231', null), 1, 'the newest key is still counted');
  });

  it('keys very long account names by digest without confusing them', () => {
    const { limiter } = setup({ addressFreeFailures: 50 });
    const long = 'a'.repeat(10_000);
    fail(limiter, 5, A, `${long}x`);
    assert.equal(limiter.retryAfter(A, `${long}x`), 1);
    assert.equal(limiter.retryAfter(A, `${long}y`), 0);
  });

  it('refuses nonsense options', () => {
    const clock = new MovableClock();
    assert.throws(() => new FailureLimiter({ clock, freeFailures: -1 }), RangeError);
    assert.throws(() => new FailureLimiter({ clock, maxEntries: 0 }), RangeError);
    assert.throws(() => new FailureLimiter({ clock, windowSeconds: Number.NaN }), RangeError);
    assert.throws(() => new FailureLimiter({ clock, addressFreeFailures: 1e6 }), RangeError);
  });
});

describe('attempts in flight', () => {
  it('count as failures until they end, so parallel guesses cannot outrun the throttle', () => {
    const clock = new MovableClock();
    const limiter = new FailureLimiter({ clock, freeFailures: 3 });
    const ends: Array<() => void> = [];
    let admitted = 0;
    for (let i = 0; i < 10; i++) {
      if (limiter.retryAfter('198.51.100.1', 'admin') === 0) {
        admitted++;
        ends.push(limiter.begin('198.51.100.1', 'admin'));
      }
    }
    assert.equal(admitted, 3, 'only the free attempts are let through at once');
    for (const end of ends) {
      end();
      end();
    }
    assert.equal(
      limiter.retryAfter('198.51.100.1', 'admin'),
      0,
      'ended without a recorded failure: free again',
    );
    assert.equal(limiter.retryAfter('203.0.113.5', 'admin'), 0, 'another address is never held up');
  });
});
