/**
 * Sealing secrets that must be stored recoverable (digest password equivalents, JWT signing keys):
 * AES-256-GCM under a key file that never leaves the data directory, so a copy of the database
 * alone reveals none of them.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { createKeyFileOnce, errnoText, isErrno } from '../util/key-file.js';

const KEY_BYTES = 32;
/** NIST SP 800-38D §8.2.2: a random 96-bit IV per message. */
const IV_BYTES = 12;
const TAG_BYTES = 16;
const PREFIX = 'v1.';
/** Sealed secrets are small; refusing huge input keeps a bad row from costing much. */
const MAX_SEALED_LENGTH = 1024 * 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export type SecretBoxErrorCode = 'key_file' | 'malformed' | 'unauthentic';

export class SecretBoxError extends Error {
  /** key_file: the key file is unusable; malformed: not a v1 sealed value; unauthentic: tampered, wrong context or wrong key. */
  readonly code: SecretBoxErrorCode;

  constructor(code: SecretBoxErrorCode, message: string) {
    super(message);
    this.name = 'SecretBoxError';
    this.code = code;
  }
}

export class SecretBox {
  private readonly key: KeyObject;

  /**
   * The key in `path`, or a new random one written there (mode 0600) when the file does not exist.
   * Refuses a file of the wrong size or readable by group or others.
   */
  static loadOrCreate(path: string): SecretBox {
    const existing = readKeyFile(path);
    if (existing !== undefined) return new SecretBox(existing);
    const key = randomBytes(KEY_BYTES);
    if (createKeyFileOnce(path, key)) return new SecretBox(key);
    // Another process created it first: use theirs, so both seal with the same key.
    const theirs = readKeyFile(path);
    if (theirs === undefined) {
      throw new SecretBoxError('key_file', `the key file ${path} vanished while being created`);
    }
    return new SecretBox(theirs);
  }

  constructor(key: Buffer) {
    if (key.length !== KEY_BYTES) {
      throw new SecretBoxError('key_file', `a SecretBox key has ${KEY_BYTES} bytes, got ${key.length}`);
    }
    this.key = createSecretKey(Buffer.from(key));
  }

  /**
   * `context` (e.g. "digest-ha1:alice") is authenticated but not stored: a sealed value moved to
   * another row or purpose fails to open.
   */
  seal(plaintext: Buffer | string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    const ciphertext = Buffer.concat([cipher.update(data), cipher.final()]);
    return PREFIX + Buffer.concat([iv, ciphertext, cipher.getAuthTag()]).toString('base64url');
  }

  /**
   * A 32-byte key for another purpose (e.g. "digest-nonce"), derived with HKDF-SHA256 (RFC 5869)
   * so that one key file serves every purpose and no two purposes share a key. Stable for a key
   * file, so replicas sharing it derive the same keys.
   */
  deriveKey(purpose: string): Buffer {
    if (purpose.length === 0) throw new RangeError('deriveKey needs a purpose');
    return Buffer.from(hkdfSync('sha256', this.key, Buffer.alloc(0), `certmaster/${purpose}`, KEY_BYTES));
  }

  open(sealed: string, context: string): Buffer {
    if (sealed.length > MAX_SEALED_LENGTH || !sealed.startsWith(PREFIX)) {
      throw new SecretBoxError('malformed', 'not a sealed secret (expected "v1." and base64url)');
    }
    const body = sealed.slice(PREFIX.length);
    if (!BASE64URL.test(body)) {
      throw new SecretBoxError('malformed', 'not a sealed secret (expected "v1." and base64url)');
    }
    const raw = Buffer.from(body, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) {
      throw new SecretBoxError('malformed', 'sealed secret too short');
    }
    const iv = raw.subarray(0, IV_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const decipher = createDecipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    const plaintext = decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES));
    try {
      return Buffer.concat([plaintext, decipher.final()]);
    } catch {
      plaintext.fill(0);
      throw new SecretBoxError(
        'unauthentic',
        'the sealed secret does not open: it was altered, belongs to another context, or was sealed with another key',
      );
    }
  }
}

/** The key, or undefined when there is no file. Checks the open file itself, not the path again. */
function readKeyFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw new SecretBoxError('key_file', `cannot open the key file ${path}: ${errnoText(err)}`);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new SecretBoxError('key_file', `the key file ${path} is not a regular file`);
    if ((stat.mode & 0o077) !== 0) {
      throw new SecretBoxError(
        'key_file',
        `the key file ${path} may be read by other users (mode ${(stat.mode & 0o777).toString(8)}); run chmod 600 ${path}`,
      );
    }
    if (stat.size !== KEY_BYTES) {
      throw new SecretBoxError(
        'key_file',
        `the key file ${path} has ${stat.size} bytes, not ${KEY_BYTES}: it is not a certmaster key (restore it from backup)`,
      );
    }
    const key = Buffer.alloc(KEY_BYTES);
    let read = 0;
    while (read < KEY_BYTES) {
      const n = readSync(fd, key, read, KEY_BYTES - read, read);
      if (n === 0)
        throw new SecretBoxError('key_file', `the key file ${path} was truncated while being read`);
      read += n;
    }
    return key;
  } finally {
    closeSync(fd);
  }
}
