/**
 * Short-lived certificates kept fresh by the agent under the server's real renewal window: a leaf of
 * two minutes (ca.leaf_validity_minutes), ra.renew_window 0.4 (renewal opens 72 s after notBefore,
 * which is backdated one minute, so about 12 s after issuance). `certmaster agent --once` first finds
 * nothing due, then, once the window opens, renews and runs --exec. Real processes throughout.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { cli, cliAsync, type RunningServer, startServer, tempDir } from '../helpers/cli.js';

const tmp = tempDir('short-lived');
const data = join(tmp.path, 'data');
const host = join(tmp.path, 'host');
const cert = join(host, 'cert.pem');
const key = join(host, 'key.pem');
let server: RunningServer;

function leaf(): X509Certificate {
  return new X509Certificate(readFileSync(cert));
}

before(async () => {
  assert.equal(cli(['init', '--data', data]).code, 0);
  for (const [k, v] of [
    ['ra.autosign', '*.fleet.example'],
    ['ca.leaf_validity_minutes', '2'],
    ['ra.renew_window', '0.4'],
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
    'short.fleet.example',
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

test('a two-minute certificate: the agent waits for the window, then renews it and runs --exec', async () => {
  const first = leaf();
  const lifetimeMs = Date.parse(first.validTo) - Date.parse(first.validFrom);
  // Two minutes ahead plus the minute of backdating; the certificate's times have whole seconds.
  assert.ok(lifetimeMs >= 179_000 && lifetimeMs <= 181_000, `lifetime ${lifetimeMs} ms`);
  const opens = Date.parse(first.validFrom) + Math.floor(lifetimeMs * 0.4);
  const marker = join(tmp.path, 'marker');
  const agent = (): ReturnType<typeof cliAsync> =>
    cliAsync([
      'agent',
      '--once',
      '--window',
      '0.4',
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

  if (Date.now() < opens - 2_000) {
    const early = await agent();
    assert.equal(early.code, 0, early.stderr);
    assert.ok(!existsSync(marker), 'nothing is renewed before the window opens');
    assert.equal(leaf().serialNumber, first.serialNumber);
  }
  await sleep(Math.max(0, opens - Date.now() + 1_000));
  const due = await agent();
  assert.equal(due.code, 0, due.stderr);
  const renewed = leaf();
  assert.notEqual(renewed.serialNumber, first.serialNumber, 'the agent renewed the certificate');
  assert.equal(
    readFileSync(marker, 'utf8').toLowerCase(),
    renewed.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ''),
  );
  assert.ok(Date.parse(renewed.validTo) > Date.parse(first.validTo), 'the new certificate lives longer');
  assert.ok(Date.parse(renewed.validTo) - Date.now() <= 121_000, 'and is short-lived too');
});
