/**
 * The ceiling for issuance on one core: node:crypto signing a TBSCertificate-sized buffer with an ECDSA P-256
 * key in a tight loop, with nothing else (no DER, no HTTP, no store).
 */
import { randomBytes, sign } from 'node:crypto';
import { makeBenchKey } from './csr.js';

export interface RawSignResult {
  signatures: number;
  seconds: number;
  perSecond: number;
}

/** A leaf's TBSCertificate with one SAN is about 400 octets. */
const TBS_OCTETS = 400;
const MAX_SIGNATURES = 10_000_000;
const CLOCK_EVERY = 64;

export function measureRawSigning(seconds: number): RawSignResult {
  const { privateKey } = makeBenchKey();
  const tbs = randomBytes(TBS_OCTETS);
  // A short warm-up so the first OpenSSL context setup and the JIT are not timed.
  for (let i = 0; i < 200; i++) sign('sha256', tbs, privateKey);
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let signatures = 0;
  let now = start;
  while (signatures < MAX_SIGNATURES && now < deadline) {
    for (let i = 0; i < CLOCK_EVERY; i++) sign('sha256', tbs, privateKey);
    signatures += CLOCK_EVERY;
    now = performance.now();
  }
  const elapsed = (now - start) / 1000;
  return {
    signatures,
    seconds: Math.round(elapsed * 1000) / 1000,
    perSecond: Math.round(signatures / elapsed),
  };
}
