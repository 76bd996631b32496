/**
 * ECDSA P-256 PKCS#10 requests (RFC 2986) for the load generator, built with a DER writer just big enough
 * for them, so making thousands costs one signature each and nothing else.
 */
import { createECDH, createPrivateKey, type KeyObject, sign } from 'node:crypto';

/** A P-256 key pair with its SubjectPublicKeyInfo already encoded. */
export interface BenchKey {
  privateKey: KeyObject;
  /** SubjectPublicKeyInfo, DER. */
  spki: Buffer;
}

/** A CSR and the key it certifies, so a returned certificate can be checked against it. */
export interface BenchCsr {
  commonName: string;
  pem: string;
  /** SubjectPublicKeyInfo, DER. */
  spki: Buffer;
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const octets: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

function tlv(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const octets = [first * 40 + second];
  for (const arc of rest) {
    const base128: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v & 0x7f));
    octets.push(...base128);
  }
  return tlv(0x06, Buffer.from(octets));
}

const SEQUENCE = 0x30;
const SET = 0x31;
const ECDSA_WITH_SHA256 = tlv(SEQUENCE, oid('1.2.840.10045.4.3.2'));
/** SubjectPublicKeyInfo up to the uncompressed point: id-ecPublicKey, prime256v1, BIT STRING of 66 octets. */
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const VERSION_1 = Buffer.from([0x02, 0x01, 0x00]);
const COMMON_NAME = oid('2.5.4.3');
const EXTENSION_REQUEST = oid('1.2.840.113549.1.9.14');
const SUBJECT_ALT_NAME = oid('2.5.29.17');

/**
 * A fresh P-256 key, made through ECDH rather than generateKeyPairSync: in Node 20, exporting a key that
 * generateKeyPairSync made can deadlock when a garbage collection finalizes the key generation job while the
 * export holds the key's lock (seen here about once in 15 runs of 1,024 keys). This path never exports.
 */
export function makeBenchKey(): BenchKey {
  const ecdh = createECDH('prime256v1');
  // SEC 1 §2.3.3: 0x04 || X || Y.
  const point = ecdh.generateKeys();
  const x = point.subarray(1, 33).toString('base64url');
  const y = point.subarray(33).toString('base64url');
  const d = ecdh.getPrivateKey().toString('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'EC', crv: 'P-256', x, y, d }, format: 'jwk' });
  return { privateKey, spki: Buffer.concat([P256_SPKI_PREFIX, point]) };
}

/** A CSR for CN=commonName, with the same name as its only dNSName, signed by `key`. */
export function makeBenchCsr(key: BenchKey, commonName: string): BenchCsr {
  const { privateKey, spki } = key;
  const name = Buffer.from(commonName, 'utf8');
  const subject = tlv(SEQUENCE, tlv(SET, tlv(SEQUENCE, COMMON_NAME, tlv(0x0c, name))));
  const sanValue = tlv(SEQUENCE, tlv(0x82, name));
  const extensions = tlv(SEQUENCE, tlv(SEQUENCE, SUBJECT_ALT_NAME, tlv(0x04, sanValue)));
  const attributes = tlv(0xa0, tlv(SEQUENCE, EXTENSION_REQUEST, tlv(SET, extensions)));
  const info = tlv(SEQUENCE, VERSION_1, subject, spki, attributes);
  const signature = sign('sha256', info, { key: privateKey, dsaEncoding: 'der' });
  const der = tlv(SEQUENCE, info, ECDSA_WITH_SHA256, tlv(0x03, Buffer.from([0]), signature));
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  const pem = `-----BEGIN CERTIFICATE REQUEST-----\n${lines.join('\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  return { commonName, pem, spki };
}
