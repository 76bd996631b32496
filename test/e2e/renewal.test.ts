/**
 * A host's certificate as its credential, end to end with real processes: `certmaster serve`, a host
 * enrolled with `certmaster request`, curl --cert --key against /v1/whoami, `certmaster renew` and
 * `certmaster agent --once --exec` (the real bin as child processes), `certmaster ca revoke`, and the
 * revoked certificate refused by mutual TLS at once. ra.renew_window = 0 makes a fresh certificate
 * renewable, so nothing waits on a clock.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { BIN, cli, cliAsync, type RunningServer, startServer, tempDir } from '../helpers/cli.js';
import { openssl } from '../helpers/openssl.js';
import { curl } from './curl.js';

const tmp = tempDir('renewal');
const data = join(tmp.path, 'data');
const host = join(tmp.path, 'host');
const cert = join(host, 'cert.pem');
const key = join(host, 'key.pem');
const caFile = join(host, 'ca.pem');
let server: RunningServer;

function serialOf(file: string): string {
  return new X509Certificate(readFileSync(file)).serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '');
}

async function whoami(): Promise<Awaited<ReturnType<typeof curl>>> {
  return curl(caFile, ['--cert', cert, '--key', key, `${server.url}/v1/whoami`]);
}

function assertFreshPair(previousSerial: string): string {
  const serial = serialOf(cert);
  assert.notEqual(serial, previousSerial);
  assert.equal(statSync(key).mode & 0o777, 0o600, 'the new key is mode 0600');
  const verify = openssl(['verify', '-CAfile', caFile, cert]);
  assert.equal(verify.code, 0, verify.stderr);
  const x = new X509Certificate(readFileSync(cert));
  assert.ok(x.checkPrivateKey(createPrivateKey(readFileSync(key, 'utf8'))), 'cert.pem matches key.pem');
  return serial;
}

function noTemporaryFiles(dir: string): boolean {
  return !readdirSync(dir).some((n) => n.endsWith('.tmp') || n.endsWith('.next'));
}

before(async () => {
  assert.equal(cli(['init', '--data', data]).code, 0);
  for (const [k, v] of [
    ['ra.autosign', '*.fleet.example'],
    ['ra.renew_window', '0'],
  ] as const) {
    const set = cli(['config', 'set', k, v, '--data', data]);
    assert.equal(set.code, 0, set.stderr);
  }
  server = await startServer(data);
  const enrolled = await cliAsync([
    'request',
    '--server',
    server.url,
    '--cn',
    'web1.fleet.example',
    '--out',
    host,
    '--ca-fingerprint',
    server.fingerprint,
  ]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
});

after(async () => {
  await server.stop();
  tmp.remove();
});

test('enroll, authenticate with curl, renew, agent --once --exec, revoke: refused at once', async () => {
  // The certificate authenticates its host over mutual TLS.
  const first = await whoami();
  assert.equal(first.final.status, 200, first.final.body);
  assert.equal(first.json.method, 'client_certificate');
  assert.equal(first.json.name, 'web1.fleet.example');
  const enrolledSerial = serialOf(cert);

  // certmaster renew: new key, same names, files replaced, exit 0.
  const renewed = await cliAsync([
    'renew',
    '--window',
    '0',
    '--cert',
    cert,
    '--key',
    key,
    '--server',
    server.url,
  ]);
  assert.equal(renewed.code, 0, renewed.stderr);
  assert.match(renewed.stdout, new RegExp(`renewed from ${enrolledSerial}`));
  const renewedSerial = assertFreshPair(enrolledSerial);
  const afterRenew = await whoami();
  assert.equal(afterRenew.json.certificate_serial, renewedSerial);
  assert.ok(noTemporaryFiles(host), 'no temporary files are left behind');

  // The operator sees the lineage.
  const list = cli(['ca', 'list', '--all', '--data', data, '--json']);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, new RegExp(`"renewed_from": "${enrolledSerial}"`));

  // certmaster agent --once: due at once (window 0), renews, runs --exec, which sees the new files.
  const marker = join(tmp.path, 'marker');
  const agent = await cliAsync([
    'agent',
    '--once',
    '--window',
    '0',
    '--jitter',
    '0',
    '--cert',
    cert,
    '--key',
    key,
    '--server',
    server.url,
    '--exec',
    `printf '%s' "$CERTMASTER_SERIAL" > '${marker}'`,
  ]);
  assert.equal(agent.code, 0, agent.stderr);
  assert.match(agent.stderr, /certmaster agent: renewed web1\.fleet\.example: serial [0-9a-f]+/);
  assert.ok(existsSync(marker), '--exec ran');
  const agentSerial = assertFreshPair(renewedSerial);
  assert.equal(readFileSync(marker, 'utf8'), agentSerial, '--exec ran after the files were replaced');

  // Revoked: the next mutual-TLS request is refused, without a restart.
  const revoke = cli(['ca', 'revoke', agentSerial, '--reason', 'keyCompromise', '--data', data]);
  assert.equal(revoke.code, 0, revoke.stderr);
  const refused = await whoami();
  assert.equal(refused.final.status, 401, refused.final.body);
  assert.equal(refused.json.reason, 'client_certificate_invalid');
  assert.match(String(refused.json.detail), /revoked at .* for reason keyCompromise/);

  // And renewal with it is refused too, with reason, hint and request id, exit 4.
  const again = await cliAsync(['renew', '--force', '--cert', cert, '--key', key, '--server', server.url]);
  assert.equal(again.code, 4, again.stderr);
  assert.match(again.stderr, /reason client_certificate_invalid/);
  assert.match(again.stderr, /hint: /);
  assert.match(again.stderr, /request id: \S+/);
  assert.equal(serialOf(cert), agentSerial, 'a refused renewal leaves the files alone');
});

test('renew before the window without --force does nothing (exit 3); a bad key is refused locally (exit 1)', async () => {
  const other = join(tmp.path, 'other.key');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', other]);
  const mismatch = await cliAsync(['renew', '--cert', cert, '--key', other, '--server', server.url]);
  assert.equal(mismatch.code, 1, mismatch.stderr);
  assert.match(mismatch.stderr, /is not the key of/);
  const early = await cliAsync([
    'renew',
    '--window',
    '0.9',
    '--cert',
    cert,
    '--key',
    key,
    '--server',
    server.url,
  ]);
  assert.equal(early.code, 3, early.stderr);
  assert.match(early.stderr, /not due for renewal until \d{4}-/);
});

test('agent --once against a server that is not there: retries with backoff, then exit 5', async () => {
  const agent = await cliAsync([
    'agent',
    '--once',
    '--window',
    '0',
    '--jitter',
    '0',
    '--attempts',
    '2',
    '--backoff-start',
    '0.1',
    '--cert',
    cert,
    '--key',
    key,
    '--ca-file',
    caFile,
    '--server',
    'https://127.0.0.1:1',
  ]);
  assert.equal(agent.code, 5, agent.stderr);
  assert.match(agent.stderr, /retrying in \d+ s \(failure 1 of 2\)/);
  assert.match(agent.stderr, /nothing listens at https:\/\/127\.0\.0\.1:1/);
});

test('agent without --once: renews when due, at most once per --check-every, and exits 0 on SIGTERM', async () => {
  const host2 = join(tmp.path, 'host2');
  const enrolled = await cliAsync([
    'request',
    '--server',
    server.url,
    '--cn',
    'web2.fleet.example',
    '--out',
    host2,
    '--ca-fingerprint',
    server.fingerprint,
  ]);
  assert.equal(enrolled.code, 0, enrolled.stderr);
  const before = serialOf(join(host2, 'cert.pem'));
  const child = spawn(
    process.execPath,
    [
      BIN,
      'agent',
      '--window',
      '0',
      '--jitter',
      '0',
      '--check-every',
      '3600',
      '--cert',
      join(host2, 'cert.pem'),
      '--key',
      join(host2, 'key.pem'),
      '--server',
      server.url,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr.on('data', (d: Buffer) => {
    log += d.toString();
  });
  const deadline = Date.now() + 30_000;
  while (!/renewed web2\.fleet\.example/.test(log) && Date.now() < deadline && child.exitCode === null) {
    await new Promise((r) => setTimeout(r, 100));
  }
  // Long enough for a tight loop to renew again, were there one.
  await new Promise((r) => setTimeout(r, 1500));
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, log);
  assert.equal(log.match(/: renewed web2/g)?.length, 1, log);
  assert.match(log, /certmaster agent: stopped/);
  assert.notEqual(serialOf(join(host2, 'cert.pem')), before);
});
