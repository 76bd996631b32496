/**
 * Init builds a data directory in a staging sibling ("DIR.init-RANDOM") and renames it into place
 * last, so an interrupted init leaves DIR as it was (absent or empty) and `init` or `serve` can simply
 * run again. A staging directory whose init process is gone is one init made itself and may clear.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { syncDirectory } from '../util/key-file.js';

/** Written first into a staging directory: which process is building it. */
const MARKER = '.certmaster-init-in-progress';

export function stagingDirFor(root: string): string {
  const path = join(dirname(root), `${basename(root)}.init-${randomBytes(6).toString('hex')}`);
  mkdirSync(dirname(root), { recursive: true });
  mkdirSync(path, { mode: 0o700 });
  writeFileSync(join(path, MARKER), `${process.pid}\n`, { mode: 0o600 });
  return path;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes staging siblings of `root` left by an init that died; never one still being built. */
export function clearAbandonedStaging(root: string): void {
  const parent = dirname(root);
  const prefix = `${basename(root)}.init-`;
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix)) continue;
    const path = join(parent, entry);
    let pid: number;
    try {
      pid = Number.parseInt(readFileSync(join(path, MARKER), 'utf8'), 10);
    } catch {
      continue; // not ours: no marker, leave it alone
    }
    if (Number.isInteger(pid) && !alive(pid)) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * Moves a finished staging directory to `root`. rename(2) replaces an empty directory atomically
 * (POSIX rename: "new may be an empty directory"), so `serve` on an existing empty DIR works too.
 */
export function promoteStaging(staging: string, root: string): void {
  rmSync(join(staging, MARKER), { force: true });
  syncDirectory(staging);
  renameSync(staging, root);
  syncDirectory(dirname(root));
}

/**
 * Test-only crash injection: with CERTMASTER_INIT_CRASH_AT=NAME the process kills itself with SIGKILL
 * at that point of init, which is how the crash tests interrupt it deterministically.
 */
export function crashPoint(name: string): void {
  if (process.env.CERTMASTER_INIT_CRASH_AT === name) process.kill(process.pid, 'SIGKILL');
}
