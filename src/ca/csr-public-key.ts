/**
 * The public key of a CSR: read fast when it is in a canonical encoding, described for the key
 * policy (type, size, exponent, curve, and whether the curve is named as RFC 5480 requires).
 */
import { createPublicKey, type JsonWebKey, KeyObject, webcrypto } from 'node:crypto';
import type { PublicKeyDescription } from '../types.js';
import { CsrError, exactly } from './csr-error.js';
import { children, DerError, expectTag, readBitString, readInteger, readOid, readWhole, TAG } from './der.js';
import { OID } from './oids.js';

const CURVE_NAMES: Readonly<Record<string, string>> = {
  prime256v1: 'P-256',
  secp384r1: 'P-384',
  secp521r1: 'P-521',
};

/**
 * OpenSSL 3.0 decodes a DER key through its generic decoder chain, about 250 µs a key; the same key built from
 * its JWK parts takes 10 µs (RSA, Ed25519) to 150 µs (P-256, where OpenSSL checks the point). So keys in exactly
 * the canonical encoding of those types take the JWK route, and everything else the DER decoder.
 */
export function readPublicKey(spki: Buffer): KeyObject {
  try {
    const canonical = canonicalForm(spki);
    return createPublicKey(
      canonical ? { key: canonical.jwk, format: 'jwk' } : { key: spki, format: 'der', type: 'spki' },
    );
  } catch (e) {
    throw unreadable(e);
  }
}

const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/**
 * `readPublicKey`, cheaper for a P-256 key (about 45 µs instead of 70 here): WebCrypto's raw import
 * checks that the point is on the curve (OpenSSL's EC_POINT_oct2point) but not, as the JWK import's
 * EC_KEY_check_key does, that the group order times the point is the identity: a scalar multiplication
 * that only a curve with a cofactor above 1 needs (SEC 1 v2 §3.2.2.1), and P-256's cofactor is 1.
 */
export async function importPublicKey(spki: Buffer): Promise<KeyObject> {
  const point = canonicalForm(spki)?.p256Point;
  if (point === undefined) return readPublicKey(spki);
  try {
    return KeyObject.from(await webcrypto.subtle.importKey('raw', point, P256, true, ['verify']));
  } catch (e) {
    throw unreadable(e);
  }
}

function unreadable(e: unknown): CsrError {
  const reason = e instanceof Error ? e.message : String(e);
  return new CsrError('publicKey', `the CSR's public key cannot be read: ${reason}`);
}

const base64url = (bytes: Buffer): string => bytes.toString('base64url');
const unsigned = (integer: Buffer): Buffer | null =>
  integer[0]! >= 0x80 ? null : integer[0] === 0 ? integer.subarray(1) : integer;

/**
 * The JWK for an SPKI in one of the canonical forms above (and a P-256 key's uncompressed point), or null
 * to leave it to the DER decoder.
 */
function canonicalForm(spki: Buffer): { jwk: JsonWebKey; p256Point?: Buffer } | null {
  try {
    const [algorithm, bits] = exactly(spki, readWhole(spki, TAG.sequence, 'SPKI'), 2, 'SPKI');
    const [id, parameters, extra] = children(spki, expectTag(algorithm!, TAG.sequence, 'algorithm'), 3);
    if (!id || extra) return null;
    const type = readOid(spki, id);
    const key = readBitString(spki, bits!);
    if (
      type === OID.ecPublicKey &&
      parameters?.tag === TAG.oid &&
      readOid(spki, parameters) === OID.prime256v1
    ) {
      // SEC 1 §2.3.3: 0x04 || X || Y, the uncompressed form.
      if (key.length !== 65 || key[0] !== 0x04) return null;
      const [x, y] = [key.subarray(1, 33), key.subarray(33)];
      return { jwk: { kty: 'EC', crv: 'P-256', x: base64url(x), y: base64url(y) }, p256Point: key };
    }
    if (type === OID.ed25519 && !parameters && key.length === 32)
      return { jwk: { kty: 'OKP', crv: 'Ed25519', x: base64url(key) } };
    const nullParameters = parameters?.tag === TAG.null && parameters.end === parameters.contentStart;
    if (type === OID.rsaEncryption && nullParameters) {
      const [n, e] = exactly(key, readWhole(key, TAG.sequence, 'RSAPublicKey'), 2, 'RSAPublicKey');
      const modulus = unsigned(readInteger(key, n!));
      const exponent = unsigned(readInteger(key, e!));
      if (!modulus || !exponent) return null;
      return { jwk: { kty: 'RSA', n: base64url(modulus), e: base64url(exponent) } };
    }
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
  }
  return null;
}

export function describeKey(key: KeyObject, spki: Buffer): PublicKeyDescription {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return {
        kind: 'rsa',
        bits: key.asymmetricKeyDetails?.modulusLength ?? 0,
        exponent: key.asymmetricKeyDetails?.publicExponent ?? 0n,
      };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve ?? 'unknown';
      return { kind: 'ec', curve: CURVE_NAMES[curve] ?? curve, namedCurve: hasNamedCurve(spki) };
    }
    case 'ed25519':
      return { kind: 'ed25519' };
    case 'ed448':
      return { kind: 'ed448' };
    default:
      throw new CsrError(
        'publicKey',
        `the CSR's public key is of type ${key.asymmetricKeyType}, which certmaster does not certify; use an EC, RSA or Ed25519 key`,
      );
  }
}

/**
 * RFC 5480 §2.1.1: an EC key's algorithm parameters must be a namedCurve OID. OpenSSL also reads
 * keys that spell out the curve (specifiedCurve), and would copy those into a certificate.
 */
function hasNamedCurve(spki: Buffer): boolean {
  try {
    const [algorithm] = children(spki, readWhole(spki, TAG.sequence, 'SPKI'), 2);
    const [, parameters] = children(spki, expectTag(algorithm!, TAG.sequence, 'algorithm'), 3);
    return parameters?.tag === TAG.oid;
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
    return false;
  }
}
