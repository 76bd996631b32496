/**
 * Which public keys this CA certifies: RSA with e = 65537 and a modulus of at least `ra.min_rsa_bits`
 * and at most 8192 bits, EC on the named curves P-256 and P-384, and Ed25519. Anything else is refused
 * with `key_too_weak` (the detail says which rule the key broke), before any name policy runs.
 */
import type { KeyRule } from '../contract/refusal-cause.js';
import type { PublicKeyDescription } from '../types.js';
import { PolicyFailure } from './failure.js';

/** Beyond this an RSA key only costs verifiers time; 16384-bit keys were a denial-of-service lever. */
export const MAX_RSA_BITS = 8192;
/** e = 65537 (F4): the exponent every mainstream stack uses; e = 3 invites known attacks, huge e is a DoS. */
const RSA_EXPONENT = 65537n;
const ACCEPTED_CURVES = new Set(['P-256', 'P-384']);
const NEW_KEY =
  'make a new key: `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`, or RSA 2048-4096';

/** Throws PolicyFailure('key_too_weak') for a key outside the accepted set. */
export function checkKeyPolicy(key: PublicKeyDescription, minRsaBits: number): void {
  const rule = brokenRule(key, minRsaBits);
  if (rule === null) return;
  const { detail, hint } = KEY_REFUSALS[rule](key, minRsaBits);
  throw new PolicyFailure('key_too_weak', detail, hint ?? NEW_KEY, {
    field: 'publicKey',
    facts: { code: 'key_rejected', rule, key: keyName(key), minRsaBits },
  });
}

/** Which rule the key breaks, if any. */
function brokenRule(key: PublicKeyDescription, minRsaBits: number): KeyRule | null {
  switch (key.kind) {
    case 'rsa':
      if (key.bits < minRsaBits) return 'rsa_too_small';
      if (key.bits > MAX_RSA_BITS) return 'rsa_too_large';
      if (key.exponent !== RSA_EXPONENT) return 'rsa_exponent';
      return null;
    case 'ec':
      if (!key.namedCurve) return 'ec_explicit_curve';
      if (!ACCEPTED_CURVES.has(key.curve)) return 'ec_curve';
      return null;
    case 'ed25519':
      return null;
    case 'ed448':
      return 'ed448';
  }
}

function keyName(key: PublicKeyDescription): string {
  switch (key.kind) {
    case 'rsa':
      return `RSA ${key.bits}`;
    case 'ec':
      return key.namedCurve ? `EC ${key.curve}` : 'EC (explicit parameters)';
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
  }
}

type Words = { detail: string; hint?: string };

/** What the caller is told for each broken rule (unchanged words). */
const KEY_REFUSALS: Record<KeyRule, (key: PublicKeyDescription, minRsaBits: number) => Words> = {
  rsa_too_small: (key, min) => ({
    detail: `the CSR's RSA key has ${bitsOf(key)} bits; this CA requires at least ${min}`,
    hint: `make a new key with at least ${min} bits (\`openssl genrsa ${min}\`), or an EC P-256 key`,
  }),
  rsa_too_large: (key) => ({
    detail: `the CSR's RSA key has ${bitsOf(key)} bits; this CA accepts at most ${MAX_RSA_BITS}`,
  }),
  rsa_exponent: (key) => ({
    detail: `the CSR's RSA key has public exponent ${key.kind === 'rsa' ? shortExponent(key.exponent) : '?'}; this CA accepts only 65537`,
  }),
  ec_explicit_curve: () => ({
    detail:
      "the CSR's EC key spells out its curve parameters instead of naming the curve (RFC 5480 §2.1.1 requires a named curve)",
    hint: 'make the key with a named curve (OpenSSL: `-pkeyopt ec_param_enc:named_curve`, the default)',
  }),
  ec_curve: (key) => ({
    detail: `the CSR's EC key uses curve ${key.kind === 'ec' ? key.curve : '?'}, which this CA does not accept`,
    hint: 'use P-256 or P-384',
  }),
  ed448: () => ({
    detail: "the CSR's key is Ed448, which this CA does not certify",
    hint: 'use Ed25519, EC P-256 or P-384',
  }),
};

function bitsOf(key: PublicKeyDescription): number {
  return key.kind === 'rsa' ? key.bits : 0;
}

function shortExponent(e: bigint): string {
  const text = e.toString();
  return text.length <= 20 ? text : `of ${e.toString(2).length} bits`;
}
