/**
 * Proof of possession (RFC 2986 §3): the CSR's signature over its CertificationRequestInfo verifies under
 * the public key it asks to have certified. Importing that key and verifying the signature is most of the
 * CPU an issuance costs, so this is the part a crypto thread does; it takes and gives plain data only.
 */
import { type KeyObject, verify } from 'node:crypto';
import type { PublicKeyDescription } from '../types.js';
import { CsrError } from './csr-error.js';
import { describeKey, importPublicKey, readPublicKey } from './csr-public-key.js';

export interface PossessionJob {
  /** SubjectPublicKeyInfo, DER. */
  spki: Uint8Array;
  /** The signature scheme's hash, or null for EdDSA. */
  hash: string | null;
  /** The key type the signature algorithm is for ('ec', 'rsa', 'ed25519', 'ed448'). */
  keyType: string;
  /** The CertificationRequestInfo, DER: what was signed. */
  signed: Uint8Array;
  signature: Uint8Array;
}

export type PossessionOutcome =
  | { ok: true; key: PublicKeyDescription }
  | { ok: false; field: string; message: string };

function spkiOf(job: PossessionJob): Buffer {
  return Buffer.from(job.spki.buffer, job.spki.byteOffset, job.spki.byteLength);
}

/** Checks one CSR's proof of possession; throws CsrError when it fails, with the part that is wrong. */
export function provePossession(job: PossessionJob): { key: PublicKeyDescription; publicKey: KeyObject } {
  return proveWith(job, readPublicKey(spkiOf(job)));
}

function proveWith(
  job: PossessionJob,
  publicKey: KeyObject,
): { key: PublicKeyDescription; publicKey: KeyObject } {
  const key = describeKey(publicKey, spkiOf(job));
  if (publicKey.asymmetricKeyType !== job.keyType) {
    throw new CsrError(
      'signatureAlgorithm',
      `the CSR's signature algorithm is for ${job.keyType} keys but its public key is ${publicKey.asymmetricKeyType}`,
    );
  }
  if (!verifies(job, publicKey)) {
    throw new CsrError(
      'signature',
      "the CSR's signature does not verify against its own public key: the request was altered or built wrongly",
    );
  }
  return { key, publicKey };
}

/**
 * The same check as data, for answers that cross a thread: a CsrError becomes its field and message.
 * The key is imported the cheaper way (importPublicKey), which answers asynchronously.
 */
export async function possessionOutcome(job: PossessionJob): Promise<PossessionOutcome> {
  try {
    return { ok: true, key: proveWith(job, await importPublicKey(spkiOf(job))).key };
  } catch (e) {
    if (e instanceof CsrError) return { ok: false, field: e.field, message: e.message };
    throw e;
  }
}

function verifies(job: PossessionJob, key: KeyObject): boolean {
  try {
    return verify(
      job.hash,
      job.signed,
      job.keyType === 'ec' ? { key, dsaEncoding: 'der' } : key,
      job.signature,
    );
  } catch {
    // OpenSSL refuses some malformed signatures by throwing rather than returning false.
    return false;
  }
}
