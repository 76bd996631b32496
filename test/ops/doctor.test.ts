/**
 * `certmaster doctor` finds what would make sign-ins fail, on real data directories made by init,
 * broken the way operators break them: a key made world-readable, the realm changed under digest
 * accounts, Basic on a plain-HTTP listener others reach, a peer whose clock is off.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { Command } from 'commander';
import { SigningKeyRing } from '../../src/auth/tokens/keyring.js';
import { registerDoctor } from '../../src/cli/doctor.js';
import { CliError } from '../../src/cli/output.js';
import { setSetting } from '../../src/config/file.js';
import { openSecretBox } from '../../src/instance/front-door.js';
import { initDataDir } from '../../src/instance/init.js';
import { dataLayout, resolveStoreUrl } from '../../src/instance/layout.js';
import {
  type CheckResult,
  type DoctorOptions,
  doctorFailed,
  renderDoctor,
  runDoctor,
} from '../../src/ops/doctor/index.js';
import { openStore } from '../../src/store/open.js';
import { systemClock } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';

const tmp = tempDir('doctor');
after(() => tmp.remove());
let dirs = 0;

async function freshDataDir(options: { digestAdmin?: boolean } = {}): Promise<string> {
  dirs += 1;
  const dataDir = join(tmp.path, `data-${dirs}`);
  await initDataDir({
    dataDir,
    keyType: 'ec-p256',
    caSubject: 'CN=doctor test CA',
    caValidityDays: 365,
    serverValidityDays: 90,
    serverNames: [],
    clock: systemClock,
    ...(options.digestAdmin
      ? { admin: { name: 'admin', password: 'Willow-Granite-Harbor-17', digest: true } }
      : {}),
  });
  return dataDir;
}

/** What the CLI tells the doctor about DIR: the directory and where its files are. */
function doctorOf(dataDir: string): DoctorOptions {
  return { dataDir, layout: dataLayout(dataDir) };
}

function result(results: CheckResult[], check: string): CheckResult {
  const found = results.find((r) => r.check === check);
  assert.ok(found, `a ${check} check in ${JSON.stringify(results)}`);
  return found;
}

/** Runs `certmaster doctor ...` in process, capturing what it prints. */
async function runDoctorCli(args: string[]): Promise<{ stdout: string; error: unknown }> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerDoctor(program);
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'certmaster', 'doctor', ...args]);
    return { stdout: chunks.join(''), error: null };
  } catch (error) {
    return { stdout: chunks.join(''), error };
  } finally {
    process.stdout.write = write;
  }
}

/** A plain HTTP server whose Date header is `offsetMs` away from this machine's clock. */
async function skewedPeer(offsetMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((_req, res) => {
    res.setHeader('date', new Date(Date.now() + offsetMs).toUTCString());
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('certmaster doctor', () => {
  test('a healthy fresh data directory passes every check', async () => {
    const dataDir = await freshDataDir({ digestAdmin: true });
    const results = await runDoctor(doctorOf(dataDir));
    assert.deepEqual(
      results.filter((r) => r.status !== 'ok'),
      [],
      renderDoctor(results),
    );
    assert.equal(doctorFailed(results), false);
    assert.match(
      result(results, 'digest-realm').message,
      /1 account\(s\) have digest secrets for realm "certmaster"/,
    );
    assert.match(renderDoctor(results), /^ok {4}config: /);
    assert.match(renderDoctor(results), /Every check passed\.\n$/);
    const { error } = await runDoctorCli(['--data', dataDir]);
    assert.equal(error, null, 'exit 0');
  });

  test('the CRL: ok while fresh, warn past halfway (nobody rebuilds it), fail once past nextUpdate', async () => {
    const dataDir = await freshDataDir({ digestAdmin: false });
    const layout = dataLayout(dataDir);
    const store = await openStore(resolveStoreUrl('sqlite:certmaster.db', layout.root));
    const thisUpdate = new Date();
    await store.publishCrl({
      crlNumber: 7n,
      thisUpdate,
      nextUpdate: new Date(thisUpdate.getTime() + 24 * 3_600_000),
      revocationMark: '0:0',
      der: Buffer.from([0x30, 0x00]),
    });
    await store.close();
    const clock = new MovableClock(thisUpdate.getTime());
    assert.equal(result(await runDoctor({ ...doctorOf(dataDir), clock }), 'crl').status, 'ok');
    clock.advance(13 * 3600);
    const aging = result(await runDoctor({ ...doctorOf(dataDir), clock }), 'crl');
    assert.equal(aging.status, 'warn');
    assert.match(aging.message, /CRL number 7.*not rebuilt/);
    clock.advance(12 * 3600);
    const expired = result(await runDoctor({ ...doctorOf(dataDir), clock }), 'crl');
    assert.equal(expired.status, 'fail');
    assert.match(expired.message, /expired/);
    assert.match(expired.fix ?? '', /certmaster serve/);
  });

  test('ca.key readable by others: fail, naming the file and the chmod that fixes it', async () => {
    const dataDir = await freshDataDir();
    const caKey = dataLayout(dataDir).caKey;
    chmodSync(caKey, 0o644);
    const results = await runDoctor(doctorOf(dataDir));
    const perms = result(results, 'permissions');
    assert.equal(perms.status, 'fail');
    assert.ok(perms.message.includes(`${caKey} is mode 0644, readable by others`), perms.message);
    assert.equal(perms.fix, `chmod 600 ${caKey}`);
    const text = renderDoctor(results);
    assert.ok(text.includes(`fail  permissions: ${caKey} is mode 0644`), text);
    assert.ok(text.includes(`\n      chmod 600 ${caKey}\n`), text);
    assert.equal(doctorFailed(results), true);
  });

  test('the realm changed after a digest account was made: fail, with the passwd --digest fix', async () => {
    const dataDir = await freshDataDir({ digestAdmin: true });
    setSetting(dataLayout(dataDir).config, 'auth.realm', 'ops.example.com');
    const results = await runDoctor(doctorOf(dataDir));
    const realm = result(results, 'digest-realm');
    assert.equal(realm.status, 'fail');
    assert.match(
      realm.message,
      /auth\.realm is "ops\.example\.com" but the digest secrets of admin were made for realm "certmaster"/,
    );
    assert.match(realm.message, /401 credentials_invalid/);
    assert.ok(
      realm.fix?.includes(`certmaster user passwd admin --digest --data ${dataDir}`),
      realm.fix ?? '',
    );
    assert.ok(
      realm.fix?.includes(`certmaster config set auth.realm certmaster --data ${dataDir}`),
      realm.fix ?? '',
    );
  });

  test('digest secrets sealed with another key: fail', async () => {
    const dataDir = await freshDataDir({ digestAdmin: true });
    const key = dataLayout(dataDir).authKey;
    writeFileSync(key, Buffer.alloc(32, 7), { mode: 0o600 });
    const realm = result(await runDoctor(doctorOf(dataDir)), 'digest-realm');
    assert.equal(realm.status, 'fail');
    assert.match(
      realm.message,
      /the digest secrets of admin do not open with .*auth\.key \(sealed with another key\)/,
    );
  });

  test('Basic on a plain-HTTP listener that is not loopback: fail, with both ways out', async () => {
    const dataDir = await freshDataDir();
    const config = dataLayout(dataDir).config;
    setSetting(config, 'server.plain_http', 'true');
    assert.equal(
      result(await runDoctor(doctorOf(dataDir)), 'basic-over-plain-http').status,
      'ok',
      'loopback is fine',
    );
    setSetting(config, 'server.listen', '0.0.0.0:8080');
    const check = result(await runDoctor(doctorOf(dataDir)), 'basic-over-plain-http');
    assert.equal(check.status, 'fail');
    assert.match(
      check.message,
      /server\.plain_http is true, server\.listen 0\.0\.0\.0:8080 is not loopback and auth\.basic is true/,
    );
    assert.ok(check.fix?.includes(`certmaster config set server.plain_http false --data ${dataDir}`));
    assert.ok(check.fix?.includes(`certmaster config set auth.basic false --data ${dataDir}`));
    setSetting(config, 'auth.basic', 'false');
    assert.equal(result(await runDoctor(doctorOf(dataDir)), 'basic-over-plain-http').status, 'ok');
  });

  test('--peer whose clock is 10 minutes off: fail with the skew; a peer in step: ok', async () => {
    const dataDir = await freshDataDir();
    const off = await skewedPeer(-600_000);
    const inStep = await skewedPeer(0);
    try {
      const clock = result(await runDoctor({ ...doctorOf(dataDir), peer: off.url }), 'clock');
      assert.equal(clock.status, 'fail');
      const skew = Number(/clock is (\d+) s ahead of/.exec(clock.message)?.[1]);
      assert.ok(skew >= 598 && skew <= 602, clock.message);
      assert.match(clock.fix ?? '', /NTP/);
      assert.equal(result(await runDoctor({ ...doctorOf(dataDir), peer: inStep.url }), 'clock').status, 'ok');
    } finally {
      await off.close();
      await inStep.close();
    }
  });

  test('--json is an array of { check, status, message, fix }; a failing check exits non-zero', async () => {
    const dataDir = await freshDataDir();
    chmodSync(dataLayout(dataDir).serverKey, 0o640);
    const { stdout, error } = await runDoctorCli(['--data', dataDir, '--json']);
    const parsed = JSON.parse(stdout) as CheckResult[];
    assert.ok(Array.isArray(parsed));
    for (const r of parsed) {
      assert.deepEqual(Object.keys(r).sort(), ['check', 'fix', 'message', 'status']);
      assert.ok(['ok', 'warn', 'fail'].includes(r.status));
    }
    assert.equal(parsed.find((r) => r.check === 'permissions')?.status, 'fail');
    assert.ok(error instanceof CliError);
    assert.equal(error.exitCode, 1);
    assert.match(error.message, /^1 check\(s\) failed: permissions$/);
  });

  test('certificates near expiry: warn under 30 days, fail under 7, fail once expired', async () => {
    const dataDir = await freshDataDir();
    const day = 86_400_000;
    const at = (days: number) => new MovableClock(Date.now() + days * day);
    assert.equal(
      result(await runDoctor({ ...doctorOf(dataDir), clock: at(70) }), 'server-certificate').status,
      'warn',
    );
    const soon = result(await runDoctor({ ...doctorOf(dataDir), clock: at(85) }), 'server-certificate');
    assert.equal(soon.status, 'fail');
    assert.match(soon.message, /the server certificate expires in [45] days/);
    const ca = result(await runDoctor({ ...doctorOf(dataDir), clock: at(400) }), 'ca-certificate');
    assert.equal(ca.status, 'fail');
    assert.match(ca.message, /the CA certificate expired at/);
  });

  test('every signing key retired: logins would fail, fail until the server makes a new one', async () => {
    const dataDir = await freshDataDir();
    const layout = dataLayout(dataDir);
    const store = await openStore(resolveStoreUrl('sqlite:certmaster.db', layout.root));
    try {
      const ring = new SigningKeyRing(store, openSecretBox(layout), systemClock);
      await ring.init();
      assert.equal(result(await runDoctor(doctorOf(dataDir)), 'signing-keys').status, 'ok');
      const [key] = await store.listSigningKeys();
      assert.ok(key);
      const past = new Date(Date.now() - 1000);
      await store.retireSigningKey(key.kid, past, past);
    } finally {
      await store.close();
    }
    const keys = result(await runDoctor(doctorOf(dataDir)), 'signing-keys');
    assert.equal(keys.status, 'fail');
    assert.match(keys.fix ?? '', /restart certmaster serve/);
  });

  test('an invalid configuration file: fail with its message, and what depends on it is not checked', async () => {
    const dataDir = await freshDataDir();
    setSetting(dataLayout(dataDir).config, 'ra.max_names', '5');
    writeFileSync(dataLayout(dataDir).config, '[ra]\nmax_names = 0\n', { mode: 0o600 });
    const results = await runDoctor(doctorOf(dataDir));
    const config = result(results, 'config');
    assert.equal(config.status, 'fail');
    assert.match(config.message, /ra\.max_names = 0 in .*certmaster\.toml: must be between 1 and 100/);
    assert.match(config.fix ?? '', /certmaster config set ra\.max_names VALUE --data /);
    assert.equal(result(results, 'store').status, 'warn');
  });

  test('a missing store file: fail, and doctor does not create an empty one', async () => {
    const dataDir = await freshDataDir();
    const db = join(dataDir, 'certmaster.db');
    for (const file of [db, `${db}-wal`, `${db}-shm`]) rmSync(file, { force: true });
    const store = result(await runDoctor(doctorOf(dataDir)), 'store');
    assert.equal(store.status, 'fail');
    assert.match(store.message, /does not exist: a server started now would begin with an empty database/);
    assert.equal(existsSync(db), false);
  });

  test('a store migrated by a newer certmaster: fail, and the fix is to upgrade, not to check the database', async () => {
    const dataDir = await freshDataDir();
    const db = new Database(join(dataDir, 'certmaster.db'));
    db.prepare('insert into certmaster_migration (name, timestamp) values (?, ?)').run(
      '0099_from_the_future',
      new Date().toISOString(),
    );
    db.close();
    const store = result(await runDoctor(doctorOf(dataDir)), 'store');
    assert.equal(store.status, 'fail');
    assert.match(store.message, /newer than this certmaster supports/);
    assert.match(store.fix ?? '', /^upgrade certmaster/);
  });

  test('a directory that is not a data directory: one failing check', async () => {
    const results = await runDoctor(doctorOf(join(tmp.path, 'nothing-here')));
    assert.equal(results.length, 1);
    assert.equal(result(results, 'data-dir').status, 'fail');
    assert.match(result(results, 'data-dir').fix ?? '', /certmaster init --data /);
  });
});
