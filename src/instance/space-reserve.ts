/**
 * A few MiB of disk kept in the data directory (`DIR/space-reserve`) for the day the disk is full.
 * On a full filesystem SQLite cannot even open its write-ahead log, so `audit prune`, the way out,
 * would fail like everything else. The reserve is written with real blocks at open (when missing and
 * there is room); `audit prune` deletes it before it starts and puts it back when it is done.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const SPACE_RESERVE_FILE = 'space-reserve';
/** Enough for the write-ahead log and shared memory of the smallest prune step, with room to spare. */
export const SPACE_RESERVE_BYTES = 4 * 1024 * 1024;

function reservePath(dataDir: string): string {
  return join(dataDir, SPACE_RESERVE_FILE);
}

/**
 * Writes the reserve if it is missing. Best effort: on a disk without room it leaves no partial file
 * and returns false (the reserve is made again at the next open or prune).
 */
export function ensureSpaceReserve(dataDir: string): boolean {
  const path = reservePath(dataDir);
  if (existsSync(path)) return true;
  const partial = `${path}.partial`;
  let fd: number | null = null;
  try {
    fd = openSync(partial, 'w', 0o600);
    const chunk = Buffer.alloc(64 * 1024);
    for (let written = 0; written < SPACE_RESERVE_BYTES; written += chunk.length) writeSync(fd, chunk);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    // Renamed only when complete, so a reserve present is a reserve whole.
    renameSync(partial, path);
    return true;
  } catch {
    if (fd !== null) closeSync(fd);
    rmSync(partial, { force: true });
    return false;
  }
}

/** Deletes the reserve; returns whether there was one. */
export function releaseSpaceReserve(dataDir: string): boolean {
  const path = reservePath(dataDir);
  const had = existsSync(path);
  rmSync(path, { force: true });
  return had;
}
