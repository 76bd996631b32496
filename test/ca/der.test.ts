import 'reflect-metadata';
import assert from 'node:assert/strict';
import { generateKeyPairSync, KeyObject, sign, webcrypto } from 'node:crypto';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { CsrError, parseCsr } from '../../src/ca/csr.js';
import {
  bitString,
  boolean,
  children,
  contents,
  DerError,
  explicit,
  generalizedTime,
  ia5String,
  implicit,
  integer,
  nullValue,
  octetString,
  oid,
  readBitString,
  readInteger,
  readOid,
  readSmallInteger,
  readString,
  readTlv,
  readWhole,
  sequence,
  set,
  smallInteger,
  TAG,
  type Tlv,
  time,
  tlv,
  utcTime,
  utf8String,
} from '../../src/ca/der.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

function assertDerError(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DerError, `expected a DerError, got ${String(e)}`);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** Reads everything the reader can read in `buf`, descending to a bounded depth; returns elements seen. */
function walk(buf: Buffer, parent: Tlv, depth: number): number {
  let seen = 1;
  if ((parent.tag & 0x20) !== 0 && depth < 20) {
    for (const child of children(buf, parent, 1000)) seen += walk(buf, child, depth + 1);
    return seen;
  }
  const attempts = [readOid, readInteger, readBitString, readString, readSmallInteger];
  for (const read of attempts) {
    try {
      read(buf, parent);
    } catch (e) {
      if (!(e instanceof DerError)) throw e;
    }
  }
  return seen;
}

describe('DER writer and reader', () => {
  it('round-trips the primitive types inside a SEQUENCE', () => {
    const der = sequence(
      integer(hex('00 00 7f')),
      integer(hex('80')),
      smallInteger(0),
      smallInteger(65_537),
      oid('1.2.840.113549.1.1.11'),
      utf8String('grüße ✓ 🔐'),
      ia5String('host.example.com'),
      octetString(hex('deadbeef')),
      bitString(hex('0102')),
      boolean(true),
      nullValue(),
      explicit(3, smallInteger(5)),
      implicit(2, Buffer.from('a.example')),
    );
    const parts = children(der, readWhole(der, TAG.sequence, 'test'), 20);
    assert.equal(parts.length, 13);
    const [i1, i2, i3, i4, o, u, a, os, bs, b, n, ex, im] = parts as Tlv[];
    assert.deepEqual(readInteger(der, i1!), hex('7f'));
    assert.deepEqual(readInteger(der, i2!), hex('0080'));
    assert.equal(readSmallInteger(der, i3!), 0);
    assert.equal(readSmallInteger(der, i4!), 65_537);
    assert.equal(readOid(der, o!), '1.2.840.113549.1.1.11');
    assert.equal(readString(der, u!), 'grüße ✓ 🔐');
    assert.equal(readString(der, a!), 'host.example.com');
    assert.deepEqual(contents(der, os!), hex('deadbeef'));
    assert.deepEqual(readBitString(der, bs!), hex('0102'));
    assert.deepEqual(contents(der, b!), hex('ff'));
    assert.equal(n!.end - n!.contentStart, 0);
    assert.equal(ex!.tag, 0xa3);
    assert.equal(readSmallInteger(der, children(der, ex!, 1)[0]!), 5);
    assert.equal(im!.tag, 0x82);
    assert.equal(contents(der, im!).toString(), 'a.example');
  });

  it('encodes well-known values byte for byte', () => {
    assert.deepEqual(oid('1.2.840.113549.1.1.11'), hex('06 09 2a 86 48 86 f7 0d 01 01 0b'));
    assert.deepEqual(oid('2.5.29.17'), hex('06 03 55 1d 11'));
    assert.deepEqual(integer(hex('00 00 01')), hex('02 01 01'));
    assert.deepEqual(integer(Buffer.alloc(0)), hex('02 01 00'));
    assert.deepEqual(integer(hex('ff')), hex('02 02 00 ff'));
    assert.deepEqual(smallInteger(2), hex('02 01 02'));
    assert.deepEqual(smallInteger(256), hex('02 02 01 00'));
    assert.deepEqual(boolean(false), hex('01 01 00'));
    assert.deepEqual(bitString(hex('80'), 7), hex('03 02 07 80'));
    assert.deepEqual(explicit(0, smallInteger(2)), hex('a0 03 02 01 02'));
    assert.deepEqual(set(hex('04 01 02'), hex('04 01 01')), hex('31 06 04 01 01 04 01 02'));
  });

  it('writes minimal lengths and reads them back at every size boundary', () => {
    for (const [size, headerLength] of [
      [0, 2],
      [127, 2],
      [128, 3],
      [255, 3],
      [256, 4],
      [65_535, 4],
      [65_536, 5],
    ] as const) {
      const der = octetString(Buffer.alloc(size, 7));
      const read = readWhole(der, TAG.octetString, 'test');
      assert.equal(read.headerLength, headerLength, `size ${size}`);
      assert.equal(read.end - read.contentStart, size);
    }
  });

  it('round-trips random OIDs, including 128-bit arcs, within the reader size bound', () => {
    const arc = fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }).map(String));
    // Six 128-bit arcs fit in the 128 octets the reader accepts.
    fc.assert(
      fc.property(fc.nat({ max: 2 }), fc.nat({ max: 39 }), fc.array(arc, { maxLength: 6 }), (a, b, rest) => {
        const dotted = [a, b, ...rest].join('.');
        const der = oid(dotted);
        assert.equal(readOid(der, readWhole(der, TAG.oid, 'test')), dotted);
      }),
    );
  });

  it('encodes times as RFC 5280 §4.1.2.5 asks: UTCTime through 2049, GeneralizedTime from 2050', () => {
    assert.deepEqual(
      time(new Date('2049-12-31T23:59:59.999Z')),
      Buffer.from('\x17\x0d491231235959Z', 'latin1'),
    );
    assert.deepEqual(
      time(new Date('2050-01-01T00:00:00Z')),
      Buffer.from('\x18\x0f20500101000000Z', 'latin1'),
    );
    assert.deepEqual(time(new Date('1950-01-01T00:00:00Z')), Buffer.from('\x17\x0d500101000000Z', 'latin1'));
    assert.deepEqual(
      time(new Date('1949-12-31T23:59:59Z')),
      Buffer.from('\x18\x0f19491231235959Z', 'latin1'),
    );
    assert.deepEqual(
      utcTime(new Date('2026-03-04T05:06:07Z')),
      Buffer.from('\x17\x0d260304050607Z', 'latin1'),
    );
    assertDerError(() => utcTime(new Date('2050-01-01T00:00:00Z')));
    assertDerError(() => generalizedTime(new Date(Number.NaN)));
  });

  it('decodes every string type by its own encoding', () => {
    const cases: Array<[Buffer, string]> = [
      [tlv(TAG.printableString, Buffer.from('Example Host 1')), 'Example Host 1'],
      [tlv(TAG.teletexString, hex('e9 74 e9')), 'été'],
      [tlv(TAG.bmpString, hex('00 68 00 e9 4e 2d')), 'hé中'],
      [tlv(TAG.universalString, hex('00 00 00 61 00 01 f5 10')), 'a🔐'],
      [tlv(TAG.ia5String, Buffer.from('x@example.com')), 'x@example.com'],
    ];
    for (const [der, text] of cases) assert.equal(readString(der, readTlv(der, 0)), text);
  });

  it('refuses malformed strings', () => {
    for (const der of [
      tlv(TAG.utf8String, hex('c3 28')),
      tlv(TAG.ia5String, hex('68 e9')),
      tlv(TAG.bmpString, hex('00 68 00')),
      tlv(TAG.bmpString, hex('d8 3d dd 10')),
      tlv(TAG.universalString, hex('00 11 00 00')),
      octetString(hex('61')),
    ]) {
      assertDerError(() => readString(der, readTlv(der, 0)));
    }
  });

  it('refuses non-minimal, indefinite, oversized and truncated lengths', () => {
    assertDerError(() => readTlv(hex('04 81 05 0102030405'), 0), /non-minimal/);
    assertDerError(() => readTlv(hex(`04 82 00 80 ${'00'.repeat(128)}`), 0), /non-minimal/);
    assertDerError(() => readTlv(hex('30 80 02 01 00 00 00'), 0), /indefinite/);
    assertDerError(() => readTlv(hex('04 85 01 00 00 00 00'), 0), /too long/);
    assertDerError(() => readTlv(hex('04 05 01 02'), 0), /truncated/);
    assertDerError(() => readTlv(hex('04 82 01'), 0), /truncated/);
    assertDerError(() => readTlv(hex('30'), 0), /truncated/);
    assertDerError(() => readTlv(Buffer.alloc(0), 0), /truncated/);
    assertDerError(() => readTlv(hex('1f 81 00 00'), 0), /high-tag/);
    assertDerError(() => readWhole(hex('04 01 00 00'), TAG.octetString, 'x'), /trailing/);
    // A child may not run past its parent even when the buffer goes on.
    const overrun = hex('30 03 04 03 01 02 03');
    assertDerError(() => children(overrun, readTlv(overrun, 0, 5), 10), /truncated/);
  });

  it('refuses non-minimal INTEGERs, bad OIDs, unused bits and too many children', () => {
    assertDerError(() => readInteger(hex('02 02 00 01'), readTlv(hex('02 02 00 01'), 0)), /non-minimal/);
    assertDerError(() => readInteger(hex('02 02 ff 80'), readTlv(hex('02 02 ff 80'), 0)), /non-minimal/);
    assertDerError(() => readInteger(hex('02 00'), readTlv(hex('02 00'), 0)), /empty/);
    assertDerError(() => readSmallInteger(hex('02 01 ff'), readTlv(hex('02 01 ff'), 0)), /negative/);
    for (const bad of ['06 00', '06 02 2a 86', '06 03 2a 80 01']) {
      assertDerError(() => readOid(hex(bad), readTlv(hex(bad), 0)));
    }
    assertDerError(() => readBitString(hex('03 02 01 80'), readTlv(hex('03 02 01 80'), 0)), /unused/);
    const many = sequence(...Array.from({ length: 11 }, () => nullValue()));
    assertDerError(() => children(many, readTlv(many, 0), 10), /more than 10/);
    const huge = oid(
      `1.2.${Array(30)
        .fill(String(1n << 100n))
        .join('.')}`,
    );
    assertDerError(() => readOid(huge, readTlv(huge, 0)), /octets/);
    assertDerError(() => oid('3.1'));
    assertDerError(() => oid('1.40'));
    assertDerError(() => oid('1.2.03'));
    assertDerError(() => ia5String('é'));
  });

  it('reads random bytes without throwing anything but DerError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const buf = Buffer.from(bytes);
        try {
          walk(buf, readTlv(buf, 0), 0);
        } catch (e) {
          if (!(e instanceof DerError)) throw e;
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads nested structures with random headers without throwing anything but DerError', () => {
    const node: fc.Memo<Buffer> = fc.memo((n) =>
      n <= 1
        ? fc
            .tuple(fc.integer({ min: 0, max: 0x1e }), fc.uint8Array({ maxLength: 20 }))
            .map(([tag, c]) => tlv(tag, Buffer.from(c)))
        : fc
            .tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa3), fc.array(node(n - 1), { maxLength: 4 }))
            .map(([tag, parts]) => tlv(tag, Buffer.concat(parts))),
    );
    fc.assert(
      fc.property(node(5), fc.nat(), fc.nat({ max: 255 }), (der, at, value) => {
        const mutated = Buffer.from(der);
        if (mutated.length > 0) mutated[at % mutated.length] = value;
        try {
          walk(mutated, readTlv(mutated, 0), 0);
        } catch (e) {
          if (!(e instanceof DerError)) throw e;
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseCsr under hostile input', () => {
  const onlyCsrErrors = (der: Buffer): void => {
    try {
      parseCsr(der);
    } catch (e) {
      if (!(e instanceof CsrError)) throw e;
    }
  };

  it('throws only CsrError for random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => onlyCsrErrors(Buffer.from(bytes))),
      {
        numRuns: 2000,
      },
    );
  });

  it('throws only CsrError for mutations of a valid CSR, re-signed so the parse goes past the signature', async () => {
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(algorithm, true, [
      'sign',
      'verify',
    ])) as webcrypto.CryptoKeyPair;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: 'CN=fuzz.example.com, O=Example, C=DE',
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'a.example.com' },
          { type: 'ip', value: '10.0.0.1' },
          { type: 'email', value: 'x@example.com' },
        ]),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      ],
      attributes: [new x509.ChallengePasswordAttribute('secret')],
    });
    const valid = Buffer.from(csr.rawData);
    assert.equal(parseCsr(valid).dnsNames[0], 'a.example.com');
    const outer = readWhole(valid, TAG.sequence, 'csr');
    const cri = valid.subarray(children(valid, outer, 3)[0]!.start, children(valid, outer, 3)[0]!.end);
    const privateKey = KeyObject.from(keys.privateKey);
    const resign = (info: Buffer): Buffer =>
      sequence(
        info,
        sequence(oid('1.2.840.10045.4.3.2')),
        bitString(sign('sha256', info, { key: privateKey, dsaEncoding: 'der' })),
      );
    const mutation = fc.oneof(
      fc.tuple(fc.constant('set' as const), fc.nat(), fc.nat({ max: 255 })),
      fc.tuple(fc.constant('insert' as const), fc.nat(), fc.nat({ max: 255 })),
      fc.tuple(fc.constant('delete' as const), fc.nat(), fc.nat({ max: 8 })),
    );
    const apply = (bytes: Buffer, [kind, at, value]: [string, number, number]): Buffer => {
      const i = at % (bytes.length + 1);
      if (kind === 'set')
        return Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i + 1)]);
      if (kind === 'insert')
        return Buffer.concat([bytes.subarray(0, i), Buffer.from([value]), bytes.subarray(i)]);
      return Buffer.concat([bytes.subarray(0, i), bytes.subarray(i + value + 1)]);
    };
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (mutations, resigned) => {
        if (resigned) onlyCsrErrors(resign(mutations.reduce(apply, cri)));
        else onlyCsrErrors(mutations.reduce(apply, valid));
      }),
      { numRuns: 1500 },
    );
    // Unsigned mutations of a field's contents are caught by the signature, as they must be.
    const altered = Buffer.from(valid);
    altered[valid.indexOf('fuzz.example.com')]! ^= 0x01;
    assert.throws(
      () => parseCsr(altered),
      (e: unknown) => e instanceof CsrError && e.field === 'signature',
    );
    const otherKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const wrongSigner = sequence(
      cri,
      sequence(oid('1.2.840.10045.4.3.2')),
      bitString(sign('sha256', cri, { key: otherKey, dsaEncoding: 'der' })),
    );
    assert.throws(
      () => parseCsr(wrongSigner),
      (e: unknown) => e instanceof CsrError && e.field === 'signature',
    );
  });
});
