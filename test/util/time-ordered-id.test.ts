import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { randomSerial } from '../../src/ca/issuer.js';
import { newRequestId } from '../../src/ra/csr-input.js';
import { TIME_PREFIX_OCTETS, timeOrderedBytes } from '../../src/util/time-ordered-id.js';

describe('timeOrderedBytes', () => {
  it('starts with the milliseconds, big-endian, so ids of later times sort after earlier ones', () => {
    const at = Date.UTC(2026, 11, 5, 20, 0, 0, 123);
    const id = timeOrderedBytes(16, at);
    assert.equal(id.length, 16);
    assert.equal(id.readUIntBE(0, TIME_PREFIX_OCTETS), at);
    const later = timeOrderedBytes(16, at + 1);
    assert.ok(Buffer.compare(id, later) < 0);
    assert.ok(id.toString('hex') < later.toString('hex'));
  });

  it('fills the rest with random octets: ids of one millisecond differ', () => {
    const at = Date.now();
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++)
      seen.add(timeOrderedBytes(16, at).subarray(TIME_PREFIX_OCTETS).toString('hex'));
    assert.equal(seen.size, 2000);
  });

  it('refuses sizes with no random part and times that do not fit', () => {
    assert.throws(() => timeOrderedBytes(6), RangeError);
    assert.throws(() => timeOrderedBytes(1.5), RangeError);
    assert.throws(() => timeOrderedBytes(16, -1), RangeError);
    assert.throws(() => timeOrderedBytes(16, 2 ** 47), RangeError);
  });
});

describe('randomSerial', () => {
  it('keeps at least 64 bits of CSPRNG output (CA/B BR 7.1) after its time prefix', () => {
    assert.ok((16 - TIME_PREFIX_OCTETS) * 8 >= 64);
    const at = Date.now();
    const a = randomSerial(at);
    const b = randomSerial(at);
    assert.deepEqual(a.subarray(0, TIME_PREFIX_OCTETS), b.subarray(0, TIME_PREFIX_OCTETS));
    assert.notDeepEqual(a.subarray(TIME_PREFIX_OCTETS), b.subarray(TIME_PREFIX_OCTETS));
    // Positive and minimal as a DER INTEGER: high bit clear, first octet non-zero.
    assert.ok(a[0]! >= 0x01 && a[0]! <= 0x7f);
  });
});

describe('newRequestId', () => {
  it('keeps the 128 random bits of a capability after its time prefix', () => {
    const before = Date.now();
    const id = Buffer.from(newRequestId(), 'base64url');
    assert.equal(id.length, TIME_PREFIX_OCTETS + 16);
    const at = id.readUIntBE(0, TIME_PREFIX_OCTETS);
    assert.ok(at >= before && at <= Date.now());
    assert.notEqual(newRequestId().slice(8), newRequestId().slice(8));
  });
});
