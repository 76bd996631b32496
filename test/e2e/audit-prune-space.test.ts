/**
 * `audit prune` gives the space back: on SQLite the data file shrinks after many records are pruned
 * (incremental vacuum, switched on by a one-time VACUUM for a database made before), and pruning works
 * on a full disk (a small tmpfs the test fills; mounting needs root, as the /readyz full-disk test).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { initDataDir } from '../../src/instance/init.js';
import { openInstance } from '../../src/instance/open.js';
import { systemClock } from '../../src/types.js';
import { auditEvent } from '../audit/events.js';
import { cli, tempDir } from '../helpers/cli.js';

async function makeDataDir(under?: string): Promise<{ dir: string; remove(): void }> {
  const tmp = tempDir('prune', under);
  const dir = join(tmp.path, 'data');
  await initDataDir({
    dataDir: dir,
    keyType: 'ec-p256',
    caSubject: 'CN=prune CA',
    caValidityDays: 365,
    serverValidityDays: 30,
    serverNames: [],
    clock: systemClock,
  });
  return { dir, remove: tmp.remove };
}

/** Appends `count` records of about 1 KiB each through the real audit log. */
async function addRecords(dir: string, count: number): Promise<void> {
  const instance = await openInstance(dir);
  try {
    for (let done = 0; done < count; done += 500) {
      await Promise.all(
        Array.from({ length: Math.min(500, count - done) }, () =>
          instance.audit.record(
            auditEvent({ at: new Date(), details: { padding: randomBytes(400).toString('hex') } }),
          ),
        ),
      );
    }
  } finally {
    await instance.close();
  }
}

function dbBytes(dir: string): number {
  return statSync(join(dir, 'certmaster.db')).size;
}

function prune(dir: string): { code: number; stdout: string; stderr: string } {
  const future = new Date(Date.now() + 3_600_000).toISOString();
  return cli(['audit', 'prune', '--before', future, '--data', dir], { timeoutMs: 120_000 });
}

test('a new database shrinks after pruning many records, and the chain still verifies', async () => {
  const { dir, remove } = await makeDataDir();
  try {
    await addRecords(dir, 10_000);
    const before = dbBytes(dir);
    const r = prune(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Removed 10\d{3} records/);
    assert.match(r.stdout, /Space: database file [\d.]+ MiB -> [\d.]+ MiB/);
    assert.doesNotMatch(r.stdout, /switched on/);
    const after = dbBytes(dir);
    assert.ok(after < before / 4, `the data file went from ${before} to ${after} bytes`);
    const verify = cli(['audit', 'verify', '--data', dir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    remove();
  }
});

test('a database made without incremental vacuum is switched on its first prune, and says so', async () => {
  const { dir, remove } = await makeDataDir();
  try {
    // As an older release left it: auto_vacuum none.
    const raw = new Database(join(dir, 'certmaster.db'));
    raw.pragma('auto_vacuum = NONE');
    raw.exec('VACUUM');
    assert.equal(raw.pragma('auto_vacuum', { simple: true }), 0);
    raw.close();
    await addRecords(dir, 10_000);
    const before = dbBytes(dir);
    const r = prune(dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /incremental vacuum switched on for this database \(a one-time full VACUUM\)/);
    const after = dbBytes(dir);
    assert.ok(after < before / 4, `the data file went from ${before} to ${after} bytes`);
    const check = new Database(join(dir, 'certmaster.db'), { readonly: true });
    assert.equal(check.pragma('auto_vacuum', { simple: true }), 2);
    check.close();
  } finally {
    remove();
  }
});

test('audit prune works on a full disk and frees space there', async () => {
  const mountPoint = mkdtempSync(join(tmpdir(), 'certmaster-prune-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', mountPoint]);
  const filler = join(mountPoint, 'filler');
  try {
    const { dir } = await makeDataDir(mountPoint);
    await addRecords(dir, 6_000);
    // Every open keeps the reserve that prune frees first (without it, SQLite cannot open its log here).
    assert.ok(existsSync(join(dir, 'space-reserve')));
    // Fill the filesystem to the last block: one big write, then small ones until ENOSPC.
    const chunk = Buffer.alloc(64 * 1024);
    try {
      writeFileSync(filler, Buffer.concat(Array.from({ length: 32 * 16 }, () => chunk)));
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
    }
    const fullBefore = execFileSync('df', ['-B1', '--output=avail', mountPoint], { encoding: 'utf8' });
    const before = dbBytes(dir);
    const r = prune(dir);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}\n(free before: ${fullBefore})`);
    assert.match(r.stdout, /Removed 6\d{3} records/);
    const after = dbBytes(dir);
    assert.ok(after < before / 4, `the data file went from ${before} to ${after} bytes`);
    assert.ok(existsSync(join(dir, 'space-reserve')), 'the reserve is back after the prune');
    const verify = cli(['audit', 'verify', '--data', dir]);
    assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  } finally {
    rmSync(filler, { force: true });
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  }
});
