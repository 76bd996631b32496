/**
 * A server on plain HTTP (`serve --insecure-http`) refuses every password and client secret that
 * comes from another address than loopback: Basic, the OAuth password grant and client secrets at
 * /oauth/*. The "other machine" is this machine's own non-loopback address (the server binds it and
 * the client connects from it), so the server's socket sees a non-loopback peer.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { networkInterfaces } from 'node:os';
import { after, before, test } from 'node:test';
import { CLI_CLIENT_ID } from '../../src/client/api.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const ADMIN = { name: 'admin', password: 'Quartz-Lantern-Meadow-42', digest: false };

/** An IPv4 address of this machine that is not loopback. */
function localNonLoopbackAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this machine has no non-loopback IPv4 address to test with');
}

interface PlainReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  json: Record<string, unknown>;
}

function post(
  url: string,
  form: Record<string, string>,
  localAddress: string,
  headers: Record<string, string> = {},
): Promise<PlainReply> {
  const body = new URLSearchParams(form).toString();
  return request(
    url,
    'POST',
    localAddress,
    {
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    },
    body,
  );
}

function request(
  url: string,
  method: string,
  localAddress: string,
  headers: Record<string, string>,
  body?: string,
): Promise<PlainReply> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: Record<string, unknown> = {};
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          json = {};
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

const address = localNonLoopbackAddress();
let remote: TestServer;
let loopback: TestServer;

before(async () => {
  remote = await startTestServer({}, { admin: ADMIN, plainHttp: true, host: address });
  loopback = await startTestServer({}, { admin: ADMIN, plainHttp: true, host: '127.0.0.1' });
});

after(async () => {
  await remote.close();
  await loopback.close();
});

async function assertRefused(reply: PlainReply, what: string): Promise<void> {
  assert.equal(reply.status, 400, JSON.stringify(reply.json));
  assert.equal(reply.json.error, 'invalid_request');
  assert.equal(reply.json.reason, 'insecure_transport');
  assert.match(String(reply.json.error_description), new RegExp(`${what} over plain HTTP`));
  assert.match(String(reply.json.hint), /https:\/\//);
  assert.equal(reply.json.access_token, undefined);
  const id = reply.headers['x-request-id'];
  assert.equal(typeof id, 'string');
  assert.equal(reply.json.request_id, id);
  const records = await remote.instance.store.queryAudit({ requestId: String(id) });
  assert.ok(
    records.some((r) => r.reason === 'insecure_transport' && r.outcome === 'failure'),
    `audited: ${JSON.stringify(records.map((r) => [r.kind, r.reason]))}`,
  );
}

test('the OAuth password grant from a non-loopback address over plain HTTP is refused unchecked', async () => {
  const before = remote.frontDoor.hasher.verifications;
  const reply = await post(
    `${remote.url}/oauth/token`,
    { grant_type: 'password', username: ADMIN.name, password: ADMIN.password, client_id: CLI_CLIENT_ID },
    address,
  );
  await assertRefused(reply, 'password');
  assert.equal(remote.frontDoor.hasher.verifications, before, 'the password was never checked');
});

test('a client secret from a non-loopback address over plain HTTP is refused unchecked', async () => {
  const before = remote.frontDoor.hasher.verifications;
  const basic = `Basic ${Buffer.from('bot:some-client-secret').toString('base64')}`;
  await assertRefused(
    await post(`${remote.url}/oauth/token`, { grant_type: 'client_credentials' }, address, {
      authorization: basic,
    }),
    'client secret',
  );
  await assertRefused(
    await post(
      `${remote.url}/oauth/token`,
      { grant_type: 'client_credentials', client_id: 'bot', client_secret: 'some-client-secret' },
      address,
    ),
    'client secret',
  );
  await assertRefused(
    await post(`${remote.url}/oauth/revoke`, { token: 'whatever' }, address, { authorization: basic }),
    'client secret',
  );
  assert.equal(remote.frontDoor.hasher.verifications, before);
});

test('Basic from a non-loopback address over plain HTTP is refused and not offered', async () => {
  const basic = `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}`;
  const reply = await request(`${remote.url}/v1/whoami`, 'GET', address, { authorization: basic });
  assert.equal(reply.status, 401);
  assert.equal(reply.json.reason, 'scheme_unsupported');
  assert.doesNotMatch(String(reply.headers['www-authenticate']), /Basic/);
});

test('from loopback, plain HTTP (a TLS proxy on the same machine) still signs in', async () => {
  const reply = await post(
    `${loopback.url}/oauth/token`,
    { grant_type: 'password', username: ADMIN.name, password: ADMIN.password, client_id: CLI_CLIENT_ID },
    '127.0.0.1',
  );
  assert.equal(reply.status, 200, JSON.stringify(reply.json));
  assert.equal(typeof reply.json.access_token, 'string');
});
