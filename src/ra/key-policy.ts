/**
 * Which public keys this CA certifies: RSA with e = 65537 and a modulus of at least `ra.min_rsa_bits`
 * and at most 8192 bits, EC on the named curves P-256 and P-384, and Ed25519. Anything else is refused
 * with `key_too_weak` (the detail says which rule the key broke), before any name policy runs.
 */
import type { PublicKeyDescription } from '../types.js';
import { PolicyFailure } from './failure.js';

/** Beyond this an RSA key only costs verifiers time; 16384-bit keys were a denial-of-service lever. */
export const MAX_RSA_BITS = 8192;
/** e = 65537 (F4): the exponent every mainstream stack uses; e = 3 invites known attacks, huge e is a DoS. */
const RSA_EXPONENT = 65537n;
const ACCEPTED_CURVES = new Set(['P-256', 'P-384']);
const NEW_KEY =
  'make a new key: `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`, or RSA 2048-4096';

const refused = (detail: string, hint = NEW_KEY): PolicyFailure =>
  new PolicyFailure('key_too_weak', detail, hint, { field: 'publicKey' });

/** Throws PolicyFailure('key_too_weak') for a key outside the accepted set. */
export function checkKeyPolicy(key: PublicKeyDescription, minRsaBits: number): void {
  switch (key.kind) {
    case 'rsa':
      if (key.bits < minRsaBits)
        throw refused(
          `the CSR's RSA key has ${key.bits} bits; this CA requires at least ${minRsaBits}`,
          `make a new key with at least ${minRsaBits} bits (\`openssl genrsa ${minRsaBits}\`), or an EC P-256 key`,
        );
      if (key.bits > MAX_RSA_BITS)
        throw refused(`the CSR's RSA key has ${key.bits} bits; this CA accepts at most ${MAX_RSA_BITS}`);
      if (key.exponent !== RSA_EXPONENT)
        throw refused(
          `the CSR's RSA key has public exponent ${shortExponent(key.exponent)}; this CA accepts only 65537`,
        );
      return;
    case 'ec':
      if (!key.namedCurve)
        throw refused(
          "the CSR's EC key spells out its curve parameters instead of naming the curve (RFC 5480 §2.1.1 requires a named curve)",
          'make the key with a named curve (OpenSSL: `-pkeyopt ec_param_enc:named_curve`, the default)',
        );
      if (!ACCEPTED_CURVES.has(key.curve))
        throw refused(
          `the CSR's EC key uses curve ${key.curve}, which this CA does not accept`,
          'use P-256 or P-384',
        );
      return;
    case 'ed25519':
      return;
    case 'ed448':
      throw refused(
        "the CSR's key is Ed448, which this CA does not certify",
        'use Ed25519, EC P-256 or P-384',
      );
  }
}

function shortExponent(e: bigint): string {
  const text = e.toString();
  return text.length <= 20 ? text : `of ${e.toString(2).length} bits`;
}
