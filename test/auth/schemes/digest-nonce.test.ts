import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DigestNonces } from '../../../src/auth/schemes/digest-nonce.js';
import { MovableClock } from '../../helpers/clock.js';

function setup(opts: { lifetimeSeconds?: number; maxTracked?: number } = {}) {
  const clock = new MovableClock(Date.UTC(2025, 0, 1));
  const key = randomBytes(32);
  return { clock, key, nonces: new DigestNonces({ key, clock, ...opts }) };
}

/** Flips one bit of the decoded nonce at `byte` and re-encodes it. */
function flip(nonce: string, byte: number): string {
  const raw = Buffer.from(nonce, 'base64url');
  raw[byte] = (raw[byte] ?? 0) ^ 1;
  return raw.toString('base64url');
}

describe('DigestNonces', () => {
  it('issues distinct base64url nonces of 40 octets that check as valid', () => {
    const { nonces } = setup();
    const a = nonces.issue();
    const b = nonces.issue();
    assert.notEqual(a, b);
    assert.match(a, /^[A-Za-z0-9_-]{54}$/);
    assert.equal(nonces.check(a), 'valid');
  });

  it('carries the first 16 octets of HMAC-SHA256(key, timestamp | run | random), as the layout says', () => {
    // The MAC is computed from the padded key with one-shot hashes; it must stay RFC 2104's HMAC, so
    // nonces of replicas (and of older builds, within their lifetime) keep checking.
    const { key, nonces, clock } = setup();
    for (let i = 0; i < 50; i++) {
      const raw = Buffer.from(nonces.issue(), 'base64url');
      const prefix = raw.subarray(0, 24);
      const mac = createHmac('sha256', key).update(prefix).digest().subarray(0, 16);
      assert.deepEqual(raw.subarray(24), mac);
      assert.equal(Number(raw.readBigUInt64BE(0)), clock.now().getTime());
      clock.advance(1);
    }
    // A nonce made elsewhere with createHmac under the same key and run checks as ours.
    const ours = Buffer.from(nonces.issue(), 'base64url');
    ours.writeBigUInt64BE(BigInt(clock.now().getTime() - 1000), 0);
    const made = Buffer.concat([
      ours.subarray(0, 24),
      createHmac('sha256', key).update(ours.subarray(0, 24)).digest().subarray(0, 16),
    ]);
    assert.equal(nonces.check(made.toString('base64url')), 'valid');
  });

  it('is valid until the lifetime has passed, then stale (its MAC still good)', () => {
    const { clock, nonces } = setup({ lifetimeSeconds: 300 });
    const nonce = nonces.issue();
    clock.advance(300);
    assert.equal(nonces.check(nonce), 'valid');
    clock.advance(1);
    assert.equal(nonces.check(nonce), 'stale');
  });

  it('defaults to a 300 second lifetime', () => {
    const { clock, nonces } = setup();
    const nonce = nonces.issue();
    clock.advance(299);
    assert.equal(nonces.check(nonce), 'valid');
    clock.advance(2);
    assert.equal(nonces.check(nonce), 'stale');
  });

  it('accepts a nonce from a replica up to 60 s ahead, refuses one further in the future', () => {
    const { clock, key, nonces } = setup();
    const aheadClock = new MovableClock(clock.now().getTime() + 60_000);
    const ahead = new DigestNonces({ key, clock: aheadClock });
    assert.equal(nonces.check(ahead.issue()), 'stale', 'another run: ours, but its counts are unknown here');
    aheadClock.advance(1);
    assert.equal(nonces.check(ahead.issue()), 'invalid');
  });

  it('refuses every tampered octet: timestamp, random part and MAC', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    for (let byte = 0; byte < 40; byte++)
      assert.equal(nonces.check(flip(nonce, byte)), 'invalid', `byte ${byte}`);
  });

  it('refuses a nonce made with another key, even a stale one', () => {
    const { clock, nonces } = setup();
    const other = new DigestNonces({ key: randomBytes(32), clock });
    const foreign = other.issue();
    assert.equal(nonces.check(foreign), 'invalid');
    clock.advance(3600);
    assert.equal(nonces.check(foreign), 'invalid');
  });

  it('answers a nonce of another run (restart, replica) with the same key stale, and shares the opaque value', () => {
    const { clock, key, nonces } = setup();
    const replica = new DigestNonces({ key: Buffer.from(key), clock });
    const nonce = nonces.issue();
    assert.equal(nonces.check(nonce), 'valid');
    assert.equal(replica.check(nonce), 'stale');
    assert.equal(replica.opaque, nonces.opaque);
    assert.match(nonces.opaque, /^[0-9a-f]{64}$/);
    assert.notEqual(new DigestNonces({ key: randomBytes(32), clock }).opaque, nonces.opaque);
  });

  it('refuses garbage without throwing', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    for (const bad of [
      '',
      'abc',
      `${nonce}A`,
      nonce.slice(1),
      `${nonce.slice(0, 42)}=`,
      nonce.replace(/./, '+'),
    ]) {
      assert.equal(nonces.check(bad), 'invalid');
    }
    fc.assert(
      fc.property(fc.string({ maxLength: 100 }), (s) => {
        assert.equal(nonces.check(s), 'invalid');
        assert.equal(nonces.acceptNonceCount(s, 1), false);
      }),
    );
  });

  it('refuses a non-canonical encoding of a valid nonce (the last character has spare bits)', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(nonce.slice(-1));
    const sibling = `${nonce.slice(0, -1)}${alphabet[last ^ 1]}`;
    assert.deepEqual(Buffer.from(sibling, 'base64url'), Buffer.from(nonce, 'base64url'));
    assert.equal(nonces.check(sibling), 'invalid');
  });

  it('needs a 32-byte key', () => {
    const { clock } = setup();
    assert.throws(() => new DigestNonces({ key: randomBytes(16), clock }), RangeError);
  });
});

describe('DigestNonces.acceptNonceCount (replay of nc)', () => {
  it('accepts increasing counts and refuses a repeated or lower one', () => {
    const { nonces } = setup();
    const nonce = nonces.issue();
    assert.equal(nonces.acceptNonceCount(nonce, 1), true);
    assert.equal(nonces.acceptNonceCount(nonce, 1), false);
    assert.equal(nonces.acceptNonceCount(nonce, 3), true);
    assert.equal(nonces.acceptNonceCount(nonce, 2), false);
    assert.equal(nonces.acceptNonceCount(nonce, 4), true);
  });

  it('tracks each nonce separately and refuses nc 0', () => {
    const { nonces } = setup();
    const a = nonces.issue();
    const b = nonces.issue();
    assert.equal(nonces.acceptNonceCount(a, 0), false);
    assert.equal(nonces.acceptNonceCount(a, 5), true);
    assert.equal(nonces.acceptNonceCount(b, 1), true);
  });

  it('refuses counts for a nonce it did not issue', () => {
    const { clock, nonces } = setup();
    const foreign = new DigestNonces({ key: randomBytes(32), clock }).issue();
    assert.equal(nonces.acceptNonceCount(foreign, 1), false);
  });

  it('stays bounded and, once it forgot a nonce, refuses that nonce rather than allow a replay', () => {
    const { clock, nonces } = setup({ maxTracked: 2 });
    const first = nonces.issue();
    clock.advance(1);
    const second = nonces.issue();
    clock.advance(1);
    const third = nonces.issue();
    assert.equal(nonces.acceptNonceCount(first, 1), true);
    assert.equal(nonces.acceptNonceCount(second, 1), true);
    assert.equal(nonces.acceptNonceCount(first, 2), true); // first is now the most recently used
    assert.equal(nonces.acceptNonceCount(third, 1), true); // evicts second
    assert.equal(nonces.acceptNonceCount(second, 1), false); // replay of an evicted nonce
    assert.equal(nonces.acceptNonceCount(second, 2), false);
    assert.equal(nonces.acceptNonceCount(first, 3), true);
    clock.advance(1);
    assert.equal(nonces.acceptNonceCount(nonces.issue(), 1), true); // newer nonces are unaffected
  });
});
