/** Reading a submitted CSR and describing what it holds, for the RA's decisions and its records. */
import { createHash, X509Certificate } from 'node:crypto';
import { InlineCrypto } from '../ca/crypto-pool.js';
import {
  CsrError,
  type PossessionChecker,
  parseCsrWith,
  pemToDer,
  readCsrRequestedNames,
} from '../ca/csr.js';
import type { ParsedCsr } from '../types.js';
import { timeOrderedBytes } from '../util/time-ordered-id.js';
import { askedNames, PolicyFailure } from './failure.js';

/** Checks proofs of possession on this thread: the CLI's commands, and an RA given no crypto threads. */
const ON_THIS_THREAD = new InlineCrypto();

/** Reads and checks a CSR; its proof of possession is checked by `checker` (a crypto thread, or here). */
export async function readCsr(pem: string, checker: PossessionChecker = ON_THIS_THREAD): Promise<ParsedCsr> {
  try {
    return await parseCsrWith(pemToDer(pem, 'CERTIFICATE REQUEST'), checker);
  } catch (e) {
    if (e instanceof CsrError) {
      const failure = new PolicyFailure('csr_invalid', e.message, csrHint(e.field), {
        field: e.field,
        facts: { code: 'csr_rejected', field: e.field },
      });
      // A CSR that can be read but fails a check (its signature, say) still names its host, so that
      // `explain --host` finds the refusal.
      const asked = csrNamesForRecord(pem);
      if (asked) failure.askedFor(asked.subject, asked.names);
      throw failure;
    }
    throw e;
  }
}

/**
 * What a CSR asks for, its signature unchecked, as the RA's own refusals record it (PolicyFailure's
 * askedFor): the host (its CN, else its first name) and at most 100 names of at most 255 characters.
 * Null when `pem` is no CSR that can be read. For the audit record of a request refused before the
 * RA read it; the PEM is bounded by pemToDer.
 */
export function csrNamesForRecord(pem: unknown): { subject: string; names: string[] } | null {
  if (typeof pem !== 'string') return null;
  try {
    const csr = readCsrRequestedNames(pemToDer(pem, 'CERTIFICATE REQUEST'));
    const asked = askedNames(csr.commonName, [...csr.dnsNames, ...csr.ipAddresses]);
    return asked.subject === undefined ? null : { subject: asked.subject, names: asked.names };
  } catch (e) {
    if (e instanceof CsrError) return null;
    throw e;
  }
}

function csrHint(field: string): string {
  if (field === 'signature')
    return 'make a new CSR with the private key it names, e.g. `openssl req -new -key key.pem`';
  return 'send one PEM-encoded PKCS#10 request ("-----BEGIN CERTIFICATE REQUEST-----"), as `openssl req -new` or `certmaster request` make';
}

export function describeKey(csr: ParsedCsr): string {
  switch (csr.key.kind) {
    case 'rsa':
      return `RSA ${csr.key.bits}`;
    case 'ec':
      return `EC ${csr.key.curve}`;
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
  }
}

export function nameHint(policy: { maxNames: number; allowWildcards: boolean }): string {
  return `use host names (RFC 1123: letters, digits and hyphens in dot-separated labels) or IP addresses, at most ${policy.maxNames} in all${policy.allowWildcards ? '' : ', without wildcards'}`;
}

/**
 * 30 characters: a time prefix and 128 random bits. The id is the capability to read the request
 * (GET /v1/requests/{id}), so it keeps all 128 bits it had; the prefix puts the ids of the same few
 * seconds on the same few pages of the requests' index (base64url's alphabet is not in ASCII order,
 * so they sort by time only roughly).
 */
export function newRequestId(): string {
  return timeOrderedBytes(22).toString('base64url');
}

/** SHA-256 of a SubjectPublicKeyInfo, hex: what an operator compares to tell two keys apart. */
export function keyFingerprint(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('hex');
}

export function certificateSpki(pem: string): Buffer {
  return new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
}

export function certificateKeyFingerprint(pem: string): string {
  return keyFingerprint(certificateSpki(pem));
}
