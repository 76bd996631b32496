/**
 * Signed checkpoints of the audit chain, and the Ed25519 key that signs them. The key lives in its own
 * file (e.g. DIR/secrets/audit.key): not the CA key, not the token keys, so it can be kept, rotated or
 * handed to an auditor's verifier on its own. Whoever can rewrite the database cannot forge a
 * checkpoint without it.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { closeSync, constants, fstatSync, mkdirSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { createKeyFileOnce, errnoText, isErrno } from '../util/key-file.js';
import type { AuditCheckpoint } from './types.js';

export interface AuditSigningKey {
  /** Base64url SHA-256 of the public key's SubjectPublicKeyInfo (DER). */
  keyId: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export class AuditKeyError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AuditKeyError';
  }
}

/** A PKCS#8 PEM Ed25519 key is about 120 bytes; anything much larger is not ours. */
const MAX_KEY_FILE_BYTES = 4096;
const HASH_HEX = /^[0-9a-f]{64}$/;
/** An Ed25519 signature (RFC 8032 §5.1.6) is 64 octets: 86 base64url characters. */
const SIGNATURE_BASE64URL = /^[A-Za-z0-9_-]{86}$/;
const MESSAGE_TAG = 'certmaster-audit-checkpoint/v1';

/** Base64url SHA-256 of the SPKI DER: stable for a key, whatever file or format it travels in. */
export function auditKeyId(publicKey: KeyObject): string {
  return createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('base64url');
}

/** The signing key for an Ed25519 private key (its public half and id derived from it). */
export function auditSigningKey(privateKey: KeyObject): AuditSigningKey {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new AuditKeyError('the audit key must be an Ed25519 private key');
  }
  const publicKey = createPublicKey(privateKey);
  return { keyId: auditKeyId(publicKey), privateKey, publicKey };
}

/**
 * The key in `path`, or a new one written there (0600, in a 0700 directory) when the file does not
 * exist. Refuses a file readable by group or others, or one that is not an Ed25519 private key.
 */
export function loadOrCreateAuditKey(path: string): AuditSigningKey {
  const existing = readKeyFile(path);
  if (existing !== undefined) {
    return existing;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  if (createKeyFileOnce(path, Buffer.from(pem))) {
    return auditSigningKey(privateKey);
  }
  // Another process created it first: use theirs, so both sign with the same key.
  const theirs = readKeyFile(path);
  if (theirs === undefined) {
    throw new AuditKeyError(`the audit key file ${path} vanished while being created`);
  }
  return theirs;
}

/** The key in `path`; fails when there is none (verification must not invent a key). */
export function loadAuditKey(path: string): AuditSigningKey {
  const key = readKeyFile(path);
  if (key === undefined) {
    throw new AuditKeyError(`there is no audit key at ${path}`);
  }
  return key;
}

/**
 * The exact bytes a checkpoint's signature covers. `prunedBefore` is signed too: otherwise a periodic
 * checkpoint could be turned into a prune checkpoint, and the records it follows deleted unnoticed.
 */
export function checkpointMessage(seq: number, hash: string, at: Date, prunedBefore: number | null): Buffer {
  return Buffer.from(
    `${MESSAGE_TAG}\nseq=${seq}\nhash=${hash}\nat=${at.toISOString()}\npruned-before=${prunedBefore ?? '-'}\n`,
    'utf8',
  );
}

export function signCheckpoint(
  key: AuditSigningKey,
  seq: number,
  hash: string,
  at: Date,
  prunedBefore: number | null,
): AuditCheckpoint {
  if (!Number.isSafeInteger(seq) || seq < 1) {
    throw new RangeError('a checkpoint names a record: seq must be a positive integer');
  }
  if (!HASH_HEX.test(hash)) {
    throw new TypeError('a checkpoint hash is 64 lower-case hex digits');
  }
  if (prunedBefore !== null && (!Number.isSafeInteger(prunedBefore) || prunedBefore < 1)) {
    throw new RangeError('prunedBefore must be a positive integer or null');
  }
  const signature = sign(null, checkpointMessage(seq, hash, at, prunedBefore), key.privateKey);
  return { seq, hash, at, signature: signature.toString('base64url'), prunedBefore, keyId: key.keyId };
}

/** True when a known key signed exactly this checkpoint. Never throws on malformed input. */
export function verifyCheckpoint(
  checkpoint: AuditCheckpoint,
  publicKeys: ReadonlyMap<string, KeyObject>,
): boolean {
  const publicKey = publicKeys.get(checkpoint.keyId);
  if (
    publicKey === undefined ||
    !SIGNATURE_BASE64URL.test(checkpoint.signature) ||
    Number.isNaN(checkpoint.at.getTime())
  ) {
    return false;
  }
  const message = checkpointMessage(checkpoint.seq, checkpoint.hash, checkpoint.at, checkpoint.prunedBefore);
  try {
    return verify(null, message, publicKey, Buffer.from(checkpoint.signature, 'base64url'));
  } catch {
    return false;
  }
}

/** The key, or undefined when there is no file. Checks the open file itself, not the path again. */
function readKeyFile(path: string): AuditSigningKey | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) {
      return undefined;
    }
    throw new AuditKeyError(`cannot open the audit key file ${path}: ${errnoText(error)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) {
      throw new AuditKeyError(`the audit key file ${path} is not a regular file`);
    }
    if ((stat.mode & 0o077) !== 0) {
      throw new AuditKeyError(
        `the audit key file ${path} may be read by other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 ${path}`,
      );
    }
    if (stat.size === 0 || stat.size > MAX_KEY_FILE_BYTES) {
      throw new AuditKeyError(
        `the audit key file ${path} has ${stat.size} bytes: it is not a certmaster audit key`,
      );
    }
    const pem = Buffer.alloc(stat.size);
    let read = 0;
    while (read < pem.length) {
      const n = readSync(fd, pem, read, pem.length - read, read);
      if (n === 0) {
        throw new AuditKeyError(`the audit key file ${path} was truncated while being read`);
      }
      read += n;
    }
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: pem, format: 'pem' });
    } catch (error) {
      throw new AuditKeyError(`the audit key file ${path} does not hold a private key in PEM`, {
        cause: error,
      });
    } finally {
      pem.fill(0);
    }
    return auditSigningKey(privateKey);
  } finally {
    closeSync(fd);
  }
}
