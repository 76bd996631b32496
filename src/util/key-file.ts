/**
 * Creating a secret key file exactly once: written 0600 to a temporary name, fsynced, then
 * published with link(), which fails if another process published first (so two processes starting
 * at once never overwrite each other's key), and the directory entry fsynced.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** True when this call created the file; false when one already existed (read that one instead). */
export function createKeyFileOnce(path: string, data: Buffer): boolean {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    try {
      writeSync(fd, data, 0, data.length, 0);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, path);
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      // File systems without hard links: rename is still atomic, only not exclusive.
      if (!isErrno(err, 'EPERM') && !isErrno(err, 'ENOTSUP') && !isErrno(err, 'EOPNOTSUPP')) throw err;
      renameSync(temp, path);
    }
    syncDirectory(dir);
    return true;
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Already renamed, or never linked: nothing left behind.
    }
  }
}

/** Makes a new directory entry durable, so a crash cannot lose a key that was already used. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, constants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function isErrno(err: unknown, code: string): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === code;
}

export function errnoText(err: unknown): string {
  return err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
}
