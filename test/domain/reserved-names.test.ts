/**
 * Reserved names through the real server under `ra.autosign all`: the server's own names, loopback
 * names and `ra.reserved_names` wait for an operator; an operator's explicit approval signs them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { reservedAmong, reservedNames } from '../../src/domain/reserved-names.js';
import { loadServerNames } from '../../src/instance/load.js';
import { tempDir } from '../helpers/cli.js';
import { call, postCsr } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';

const ADMIN = { name: 'admin', password: 'Lantern-Quartz-Harbor-61', digest: false };
const tmp = tempDir('reserved');
let server: TestServer;
let count = 0;

before(async () => {
  server = await startTestServer(
    { 'ra.autosign': 'all', 'ra.reserved_names': '*.corp.example.com, db.example.com, 10.9.9.9' },
    { admin: ADMIN },
  );
});
after(async () => {
  await server.close();
  tmp.remove();
});

async function submit(cn: string, sans: string[] = []): Promise<Record<string, unknown>> {
  count += 1;
  // One pending request per common name: give each case its own.
  const subject = cn === 'client.example.com' ? `h${count}.example.com` : cn;
  const { csrPem } = opensslCsr(tmp.path, `r${count}`, `/CN=${subject}`, {
    sans: sans.map((s) => s.replace('client.example.com', subject)),
  });
  const r = await postCsr(server.url, server.caPem, csrPem);
  assert.ok(r.status < 300, r.text);
  return r.json;
}

describe('autosign all does not sign reserved names', () => {
  test("the server's own certificate names", async () => {
    const own = loadServerNames(server.instance.layout);
    assert.ok(own.length > 0);
    for (const name of own) {
      const isIp = /^[\d.]+$|:/.test(name);
      const r = await submit('client.example.com', [isIp ? `IP:${name}` : `DNS:${name}`]);
      assert.equal(r.state, 'pending', `${name}: ${JSON.stringify(r)}`);
    }
  });
  for (const san of ['DNS:localhost', 'DNS:app.localhost', 'IP:127.0.0.1', 'IP:127.3.4.5', 'IP:::1']) {
    test(`loopback ${san}`, async () => {
      const r = await submit('client.example.com', [san]);
      assert.equal(r.state, 'pending', JSON.stringify(r));
    });
  }
  for (const cn of ['db.example.com', 'x.corp.example.com', 'a.b.corp.example.com']) {
    test(`ra.reserved_names covers ${cn}`, async () => {
      const r = await submit(cn);
      assert.equal(r.state, 'pending', JSON.stringify(r));
    });
  }
  test('ra.reserved_names covers an IP address', async () => {
    const r = await submit('client.example.com', ['DNS:client.example.com', 'IP:10.9.9.9']);
    assert.equal(r.state, 'pending');
  });
  test('other names are still autosigned', async () => {
    const r = await submit('www.example.com', ['DNS:www.example.com', 'IP:10.9.9.8']);
    assert.equal(r.state, 'issued');
  });
});

test('an operator may sign a reserved name explicitly', async () => {
  const pending = await submit('localhost');
  assert.equal(pending.state, 'pending');
  const basic = `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}`;
  const r = await call(`${server.url}/v1/requests/${String(pending.id)}/approve`, {
    method: 'POST',
    ca: server.caPem,
    headers: { authorization: basic, 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(r.status, 200, r.text);
  assert.equal((r.json.request as { state: string }).state, 'issued');
});

test('a requested wildcard over a reserved name is reserved', () => {
  const reserved = reservedNames(['db.example.com', '*.corp.example.com'], []);
  assert.deepEqual(reservedAmong(reserved, ['*.example.com', '*.corp.example.com', '*.other.org']), [
    '*.example.com',
    '*.corp.example.com',
  ]);
  assert.deepEqual(reservedAmong(reserved, ['*.localhost', '::ffff:127.0.0.1', '0.0.0.0']), [
    '*.localhost',
    '::ffff:127.0.0.1',
    '0.0.0.0',
  ]);
});
