/**
 * The public key of a CSR: read fast when it is in a canonical encoding, described for the key
 * policy (type, size, exponent, curve, and whether the curve is named as RFC 5480 requires).
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
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
    const jwk = canonicalJwk(spki);
    return createPublicKey(jwk ? { key: jwk, format: 'jwk' } : { key: spki, format: 'der', type: 'spki' });
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new CsrError('publicKey', `the CSR's public key cannot be read: ${reason}`);
  }
}

const base64url = (bytes: Buffer): string => bytes.toString('base64url');
const unsigned = (integer: Buffer): Buffer | null =>
  integer[0]! >= 0x80 ? null : integer[0] === 0 ? integer.subarray(1) : integer;

/** The JWK for an SPKI in one of the canonical forms above, or null to leave it to the DER decoder. */
function canonicalJwk(spki: Buffer): JsonWebKey | null {
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
      return { kty: 'EC', crv: 'P-256', x: base64url(key.subarray(1, 33)), y: base64url(key.subarray(33)) };
    }
    if (type === OID.ed25519 && !parameters && key.length === 32)
      return { kty: 'OKP', crv: 'Ed25519', x: base64url(key) };
    const nullParameters = parameters?.tag === TAG.null && parameters.end === parameters.contentStart;
    if (type === OID.rsaEncryption && nullParameters) {
      const [n, e] = exactly(key, readWhole(key, TAG.sequence, 'RSAPublicKey'), 2, 'RSAPublicKey');
      const modulus = unsigned(readInteger(key, n!));
      const exponent = unsigned(readInteger(key, e!));
      if (!modulus || !exponent) return null;
      return { kty: 'RSA', n: base64url(modulus), e: base64url(exponent) };
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
