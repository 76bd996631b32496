/**
 * A minimal DER (X.690) reader and writer for exactly the structures on the issuance fast path:
 * PKCS#10 requests in, X.509 certificates out. It is not a general ASN.1 library: single-byte tags,
 * definite lengths of at most four octets, and a reader that never recurses, so the cost of hostile
 * input is one bounded pass over it.
 */

/** Every failure of the reader or the writer. */
export class DerError extends Error {
  override name = 'DerError';
}

export const TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  numericString: 0x12,
  printableString: 0x13,
  teletexString: 0x14,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  visibleString: 0x1a,
  universalString: 0x1c,
  bmpString: 0x1e,
  sequence: 0x30,
  set: 0x31,
} as const;

const CONSTRUCTED = 0x20;

/** One element: the tag octet and where its header, contents and end (exclusive) are in the buffer. */
export interface Tlv {
  tag: number;
  headerLength: number;
  start: number;
  contentStart: number;
  end: number;
}

/** Lengths above 4 GiB cannot occur in inputs we accept; the caller bounds input size far lower. */
const MAX_LENGTH_OCTETS = 4;
const MAX_OID_CONTENT = 128;
const MAX_OID_ARCS = 40;
/** Enough for the 128-bit UUID arcs of 2.25 (X.667), which a request may carry in an extension we ignore. */
const MAX_OID_ARC_OCTETS = 20;

const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;

/** Reads the element starting at `offset`; it must end at or before `limit`. */
export function readTlv(buf: Buffer, offset: number, limit: number = buf.length): Tlv {
  if (!Number.isInteger(offset) || offset < 0 || limit > buf.length || offset >= limit) {
    throw new DerError('truncated: an element was expected');
  }
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError(`high-tag-number form is not supported (${hex(tag)})`);
  if (offset + 1 >= limit) throw new DerError('truncated: the length is missing');
  const first = buf[offset + 1]!;
  let length = first;
  let headerLength = 2;
  if (first === 0x80) throw new DerError('indefinite length is not allowed in DER');
  if (first > 0x80) {
    const count = first & 0x7f;
    if (count > MAX_LENGTH_OCTETS) throw new DerError(`length of ${count} octets is too long`);
    if (offset + 2 + count > limit) throw new DerError('truncated: the length is incomplete');
    // X.690 §10.1: DER lengths use the fewest octets possible.
    if (buf[offset + 2] === 0) throw new DerError('non-minimal length (leading zero octet)');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + buf[offset + 2 + i]!;
    if (length < 0x80) throw new DerError('non-minimal length (long form for a short length)');
    headerLength = 2 + count;
  }
  const contentStart = offset + headerLength;
  const end = contentStart + length;
  if (end > limit) throw new DerError('truncated: the contents run past the end of the enclosing element');
  return { tag, headerLength, start: offset, contentStart, end };
}

/** Reads the single element that makes up all of `buf`, refusing trailing bytes. */
export function readWhole(buf: Buffer, tag: number, what: string): Tlv {
  const tlv = expectTag(readTlv(buf, 0), tag, what);
  if (tlv.end !== buf.length) throw new DerError(`${what}: trailing bytes after the element`);
  return tlv;
}

export function expectTag(tlv: Tlv, tag: number, what: string): Tlv {
  if (tlv.tag !== tag) throw new DerError(`${what}: expected tag ${hex(tag)} but found ${hex(tlv.tag)}`);
  return tlv;
}

/** The elements directly inside a constructed element, at most `max` of them. */
export function children(buf: Buffer, parent: Tlv, max: number): Tlv[] {
  if ((parent.tag & CONSTRUCTED) === 0) throw new DerError(`element ${hex(parent.tag)} is not constructed`);
  const out: Tlv[] = [];
  // Every element is at least two octets long, so this loop advances on each turn.
  for (let offset = parent.contentStart; offset < parent.end; ) {
    if (out.length === max) throw new DerError(`more than ${max} elements`);
    const child = readTlv(buf, offset, parent.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

export const contents = (buf: Buffer, tlv: Tlv): Buffer => buf.subarray(tlv.contentStart, tlv.end);
export const encoded = (buf: Buffer, tlv: Tlv): Buffer => buf.subarray(tlv.start, tlv.end);

/** The two's-complement contents of an INTEGER, refusing the redundant leading octets DER forbids. */
export function readInteger(buf: Buffer, tlv: Tlv): Buffer {
  expectTag(tlv, TAG.integer, 'INTEGER');
  const c = contents(buf, tlv);
  if (c.length === 0) throw new DerError('empty INTEGER');
  if (c.length > 1 && ((c[0] === 0 && c[1]! < 0x80) || (c[0] === 0xff && c[1]! >= 0x80))) {
    throw new DerError('non-minimal INTEGER');
  }
  return c;
}

/** A non-negative INTEGER small enough for a number (versions and the like). */
export function readSmallInteger(buf: Buffer, tlv: Tlv): number {
  const c = readInteger(buf, tlv);
  if (c[0]! >= 0x80) throw new DerError('negative INTEGER');
  if (c.length > 6) throw new DerError('INTEGER too large');
  return c.readUIntBE(0, c.length);
}

export function readOid(buf: Buffer, tlv: Tlv): string {
  expectTag(tlv, TAG.oid, 'OBJECT IDENTIFIER');
  const length = tlv.end - tlv.contentStart;
  if (length === 0 || length > MAX_OID_CONTENT) throw new DerError(`OBJECT IDENTIFIER of ${length} octets`);
  const arcs: string[] = [];
  let value = 0;
  let big: bigint | null = null;
  let arcOctets = 0;
  for (let i = tlv.contentStart; i < tlv.end; i++) {
    const b = buf[i]!;
    if (arcOctets === 0 && b === 0x80) throw new DerError('OBJECT IDENTIFIER arc is not minimally encoded');
    if (++arcOctets > MAX_OID_ARC_OCTETS) throw new DerError('OBJECT IDENTIFIER arc too large');
    if (big === null && value >= 2 ** 45) big = BigInt(value);
    if (big === null) value = value * 128 + (b & 0x7f);
    else big = big * 128n + BigInt(b & 0x7f);
    if (b & 0x80) continue;
    if (arcs.length === 0) {
      // X.690 §8.19.4: the first subidentifier packs the first two arcs as 40 * X + Y.
      if (big !== null) arcs.push('2', (big - 80n).toString());
      else if (value < 80) arcs.push(String(Math.floor(value / 40)), String(value % 40));
      else arcs.push('2', String(value - 80));
    } else {
      if (arcs.length === MAX_OID_ARCS) throw new DerError('OBJECT IDENTIFIER has too many arcs');
      arcs.push(big === null ? String(value) : big.toString());
    }
    value = 0;
    big = null;
    arcOctets = 0;
  }
  if (arcOctets !== 0) throw new DerError('OBJECT IDENTIFIER ends inside an arc');
  return arcs.join('.');
}

/** The bits of a BIT STRING whose length is a whole number of octets (keys and signatures are). */
export function readBitString(buf: Buffer, tlv: Tlv): Buffer {
  expectTag(tlv, TAG.bitString, 'BIT STRING');
  const c = contents(buf, tlv);
  if (c.length === 0) throw new DerError('BIT STRING without its unused-bits octet');
  if (c[0] !== 0) throw new DerError('BIT STRING with unused bits where whole octets are required');
  return c.subarray(1);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes any of the ASN.1 character string types a Name or an attribute may use. */
export function readString(buf: Buffer, tlv: Tlv): string {
  const c = contents(buf, tlv);
  switch (tlv.tag) {
    case TAG.utf8String:
      try {
        return utf8.decode(c);
      } catch {
        throw new DerError('UTF8String is not valid UTF-8');
      }
    case TAG.printableString:
    case TAG.numericString:
    case TAG.visibleString:
    case TAG.ia5String:
      // Only the encoding is checked here (7-bit); whether the text is an acceptable name is policy's call.
      for (const b of c)
        if (b > 0x7f) throw new DerError(`string type ${hex(tlv.tag)} holds a non-ASCII octet`);
      return c.toString('latin1');
    case TAG.teletexString:
      // T.61 in the wild is Latin-1 in practice; OpenSSL and browsers read it so.
      return c.toString('latin1');
    case TAG.bmpString:
      return decodeCodePoints(c, 2);
    case TAG.universalString:
      return decodeCodePoints(c, 4);
    default:
      throw new DerError(`element ${hex(tlv.tag)} is not a string type`);
  }
}

/** BMPString is UCS-2 and UniversalString UCS-4, both big-endian; neither may hold surrogates. */
function decodeCodePoints(c: Buffer, width: 2 | 4): string {
  if (c.length % width !== 0) throw new DerError(`string length is not a multiple of ${width}`);
  let out = '';
  for (let i = 0; i < c.length; i += width) {
    const cp = width === 2 ? c.readUInt16BE(i) : c.readUInt32BE(i);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      throw new DerError('string holds an invalid code point');
    out += String.fromCodePoint(cp);
  }
  return out;
}

// ---- writer ----

function header(tag: number, length: number): Buffer {
  if (length < 0x80) return Buffer.from([tag, length]);
  if (length > 0xffffffff) throw new DerError('element too long');
  const octets = length <= 0xff ? 1 : length <= 0xffff ? 2 : length <= 0xffffff ? 3 : 4;
  const h = Buffer.alloc(2 + octets);
  h[0] = tag;
  h[1] = 0x80 | octets;
  h.writeUIntBE(length, 2, octets);
  return h;
}

export const tlv = (tag: number, content: Buffer): Buffer =>
  Buffer.concat([header(tag, content.length), content]);

export const sequence = (...parts: Buffer[]): Buffer => tlv(TAG.sequence, Buffer.concat(parts));

/** X.690 §11.6: the elements of a DER SET OF appear in ascending order of their encodings. */
export const set = (...parts: Buffer[]): Buffer =>
  tlv(TAG.set, Buffer.concat([...parts].sort(Buffer.compare)));

function contextTag(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new DerError(`context tag [${n}] out of range`);
  return 0x80 | n;
}

/** [n] EXPLICIT: a constructed wrapper around one complete element. */
export const explicit = (n: number, inner: Buffer): Buffer => tlv(contextTag(n) | CONSTRUCTED, inner);

/** [n] IMPLICIT of a primitive type: the contents keep their encoding, the tag is replaced. */
export const implicit = (n: number, content: Buffer): Buffer => tlv(contextTag(n), content);

/** An INTEGER from an unsigned big-endian magnitude, encoded minimally and positive. */
export function integer(magnitude: Buffer): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.length === 0 ? Buffer.from([0]) : magnitude.subarray(i);
  return tlv(TAG.integer, trimmed[0]! >= 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

export function smallInteger(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new DerError(`cannot encode ${n} as a small INTEGER`);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  return integer(Buffer.from(bytes));
}

export function oid(dotted: string): Buffer {
  const parts = dotted.split('.');
  if (parts.length < 2 || parts.length > MAX_OID_ARCS || !parts.every((p) => /^(0|[1-9][0-9]*)$/.test(p))) {
    throw new DerError(`"${dotted}" is not a dotted OBJECT IDENTIFIER`);
  }
  const arcs = parts.map(BigInt);
  const [a, b] = arcs as [bigint, bigint];
  if (a > 2n || (a < 2n && b >= 40n)) throw new DerError(`"${dotted}" is not a valid OBJECT IDENTIFIER`);
  const out: number[] = [];
  for (const arc of [a * 40n + b, ...arcs.slice(2)]) {
    const septets: number[] = [];
    for (let v = arc; ; v >>= 7n) {
      septets.unshift(Number(v & 0x7fn) | (septets.length > 0 ? 0x80 : 0));
      if (v < 0x80n) break;
    }
    out.push(...septets);
  }
  return tlv(TAG.oid, Buffer.from(out));
}

export const utf8String = (s: string): Buffer => tlv(TAG.utf8String, Buffer.from(s, 'utf8'));

/** The contents of an IA5String, for use under an implicit tag such as dNSName. */
export function ia5Bytes(s: string): Buffer {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) throw new DerError('IA5String cannot hold non-ASCII characters');
  }
  return Buffer.from(s, 'latin1');
}

export const ia5String = (s: string): Buffer => tlv(TAG.ia5String, ia5Bytes(s));

export const octetString = (bytes: Buffer): Buffer => tlv(TAG.octetString, bytes);

export function bitString(bytes: Buffer, unusedBits = 0): Buffer {
  if (
    !Number.isInteger(unusedBits) ||
    unusedBits < 0 ||
    unusedBits > 7 ||
    (bytes.length === 0 && unusedBits)
  ) {
    throw new DerError(`invalid unused-bits count ${unusedBits}`);
  }
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/** X.690 §11.1: DER encodes TRUE as 0xff. */
export const boolean = (value: boolean): Buffer => Buffer.from([TAG.boolean, 1, value ? 0xff : 0]);

export const nullValue = (): Buffer => Buffer.from([TAG.null, 0]);

function timeDigits(date: Date, yearDigits: 2 | 4): string {
  if (Number.isNaN(date.getTime())) throw new DerError('invalid date');
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const year = date.getUTCFullYear();
  const y = yearDigits === 2 ? pad(year % 100) : pad(year, 4);
  return `${y}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}Z`;
}

/** YYMMDDHHMMSSZ; RFC 5280 §4.1.2.5.1 reads YY >= 50 as 19YY, so only 1950 through 2049 fit. */
export function utcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!(year >= 1950 && year <= 2049)) throw new DerError(`UTCTime cannot hold the year ${year}`);
  return tlv(TAG.utcTime, Buffer.from(timeDigits(date, 2), 'latin1'));
}

/** YYYYMMDDHHMMSSZ without fractional seconds (RFC 5280 §4.1.2.5.2). */
export function generalizedTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new DerError(`GeneralizedTime cannot hold the year ${year}`);
  return tlv(TAG.generalizedTime, Buffer.from(timeDigits(date, 4), 'latin1'));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050 (and before 1950). */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? utcTime(date) : generalizedTime(date);
}
