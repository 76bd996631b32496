/**
 * Crash safety: SIGKILL the server in the middle of a burst of autosigned requests. After a restart
 * every request that was answered 201 "issued" is there with its certificate, and no serial repeats.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { makeCsr } from '../../src/client/csr.js';
import { generateKeyPair } from '../../src/util/keys.js';
import { cli, startServer, tempDir } from '../helpers/cli.js';
import { call, postCsr } from '../helpers/http.js';

const tmp = tempDir('crash');
after(() => tmp.remove());

test('every answered request survives SIGKILL; serials stay unique', async () => {
  const data = join(tmp.path, 'data');
  assert.equal(cli(['init', '--data', data]).code, 0);
  assert.equal(cli(['config', 'set', 'ra.autosign', 'all', '--data', data]).code, 0);
  const key = generateKeyPair('ec-p256').privateKey;
  const csrs: string[] = [];
  for (let i = 0; i < 600; i++) csrs.push(await makeCsr(key, 'ec-p256', `h${i}.crash.example.com`, []));

  const server = await startServer(data);
  const caPem = readFileSync(join(data, 'ca', 'ca.pem'), 'utf8');
  const agent = new https.Agent({ keepAlive: true, ca: caPem, maxSockets: 16 });
  const answered = new Map<string, string>();
  let next = 0;
  let killed = false;
  const worker = async () => {
    while (next < csrs.length && !killed) {
      const csr = csrs[next++] as string;
      try {
        const reply = await postCsr(server.url, caPem, csr, agent);
        if (reply.status === 201 && reply.json.state === 'issued')
          answered.set(String(reply.json.id), String(reply.json.serial));
        if (answered.size >= 150 && !killed) {
          killed = true;
          server.process.kill('SIGKILL');
        }
      } catch {
        // Connections cut by the kill: those requests were never answered, so promise nothing.
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  agent.destroy();
  assert.ok(killed, 'the server was killed mid-burst');
  assert.ok(answered.size >= 150);

  const again = await startServer(data);
  try {
    const check = new https.Agent({ keepAlive: true, ca: caPem });
    for (const [id, serial] of answered) {
      const reply = await call(`${again.url}/v1/requests/${id}`, { ca: caPem, agent: check });
      assert.equal(reply.status, 200, `request ${id} lost after the crash`);
      assert.equal(reply.json.state, 'issued');
      assert.equal(reply.json.serial, serial);
      assert.match(String(reply.json.certificate), /BEGIN CERTIFICATE/);
    }
    check.destroy();
    const list = JSON.parse(cli(['ca', 'list', '--all', '--json', '--data', data]).stdout) as {
      certificates: Array<{ serial: string }>;
    };
    const serials = list.certificates.map((c) => c.serial);
    assert.equal(new Set(serials).size, serials.length, 'no serial repeats');
    assert.ok(serials.length >= answered.size);
  } finally {
    await again.stop();
  }
});
