/**
 * The exact answer of the front door's commonest refusals, byte for byte where nothing varies: every
 * header field line, and the problem body as sent. Pins what the client is told while the 401 path is
 * made cheaper (issue 11): only the request id, the Digest nonce, the opaque value (per data
 * directory), the port and the date may differ, and those are checked for their shape and freshness.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { type HttpsReply, loopbackAddresses, send } from './front-door-client.js';

const ADMIN = { name: 'chief', password: 'Quarry-Lantern-5521-velvet', digest: true };
const nextAddress = loopbackAddresses(40);
const NONCE = /nonce="([A-Za-z0-9_-]{54})"/;
const OPAQUE = /opaque="([0-9a-f]{64})"/;

let srv: TestServer;
let origin: string;

before(async () => {
  srv = await startTestServer({}, { admin: ADMIN });
  origin = srv.url;
});
after(() => srv.close());

function get(path: string, headers: Record<string, string> = {}): Promise<HttpsReply> {
  return send(`${srv.url}${path}`, { ca: srv.caPem, headers, localAddress: nextAddress() });
}

/** Every header field line but those that vary by nature (date) or belong to the connection. */
function fieldLines(reply: HttpsReply): Record<string, string[]> {
  const lines: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(reply.distinct)) {
    if (name === 'date' || name === 'connection' || name === 'keep-alive') continue;
    lines[name] = values;
  }
  return lines;
}

/** The Digest challenges' nonce: one per answer, the same in each Digest challenge of it. */
function nonceOf(lines: string[]): string {
  const nonces = new Set(lines.flatMap((l) => NONCE.exec(l)?.[1] ?? []));
  assert.equal(nonces.size, 1, `one nonce per answer: ${lines.join(' | ')}`);
  return [...nonces][0] as string;
}

function blanked(lines: string[]): string[] {
  return lines.map((l) => l.replace(NONCE, 'nonce="NONCE"').replace(OPAQUE, 'opaque="OPAQUE"'));
}

const CHALLENGES_AFTER_BEARER = [
  'Digest realm="certmaster", qop="auth", algorithm=SHA-256, nonce="NONCE", opaque="OPAQUE", charset=UTF-8, userhash=true',
  'Basic realm="certmaster", charset="UTF-8"',
];

function assertCommonHeaders(reply: HttpsReply, lines: Record<string, string[]>): string {
  const id = reply.headers['x-request-id'];
  assert.equal(typeof id, 'string');
  assert.match(id as string, /^[A-Za-z0-9_-]{28}$/);
  assert.deepEqual(lines['x-request-id'], [id]);
  assert.deepEqual(lines['strict-transport-security'], ['max-age=31536000']);
  assert.deepEqual(lines['content-type'], ['application/problem+json; charset=utf-8']);
  assert.deepEqual(lines['cache-control'], ['no-store']);
  assert.deepEqual(lines['content-length'], [String(Buffer.byteLength(reply.text))]);
  return id as string;
}

describe('the exact answer of a refusal', () => {
  test('GET /v1/whoami without credentials: 401 credentials_missing', async () => {
    const reply = await get('/v1/whoami');
    assert.equal(reply.status, 401);
    const lines = fieldLines(reply);
    const id = assertCommonHeaders(reply, lines);
    assert.deepEqual(Object.keys(lines).sort(), [
      'cache-control',
      'content-length',
      'content-type',
      'strict-transport-security',
      'www-authenticate',
      'x-request-id',
    ]);
    const challenges = lines['www-authenticate'] ?? [];
    assert.deepEqual(blanked(challenges), ['Bearer realm="certmaster"', ...CHALLENGES_AFTER_BEARER]);
    assert.equal(
      reply.text,
      '{"type":"urn:certmaster:problem:credentials_missing","title":"Credentials are required","status":401,' +
        '"detail":"no credentials were sent","reason":"credentials_missing",' +
        `"hint":"log in with \`certmaster login --server ${origin}\`; this server accepts Bearer, Digest or Basic",` +
        `"request_id":"${id}","instance":"/v1/whoami"}`,
    );

    // A fresh nonce for every challenge (RFC 7616 §3.3), under the same opaque value.
    const again = await get('/v1/whoami?x=1');
    const againChallenges = fieldLines(again)['www-authenticate'] ?? [];
    assert.notEqual(nonceOf(againChallenges), nonceOf(challenges));
    assert.equal(OPAQUE.exec(againChallenges[1] ?? '')?.[1], OPAQUE.exec(challenges[1] ?? '')?.[1]);
    assert.notEqual(again.headers['x-request-id'], id);
    assert.equal(again.json.instance, '/v1/whoami', 'the query is not part of the instance');
  });

  test('the hint names the server by the Host header, and keeps its placeholder for one unfit to print', async () => {
    // The TLS client would check the certificate against the Host header; these tests care for the answer.
    const agent = new https.Agent({ ca: srv.caPem, checkServerIdentity: () => undefined });
    try {
      const ask = (host: string) =>
        send(`${srv.url}/v1/whoami`, {
          ca: srv.caPem,
          headers: { host },
          agent,
          localAddress: nextAddress(),
        });
      const named = await ask('ca.example:8443');
      assert.equal(
        named.json.hint,
        'log in with `certmaster login --server https://ca.example:8443`; this server accepts Bearer, Digest or Basic',
      );
      const unfit = await ask('ca_example');
      assert.equal(
        unfit.json.hint,
        'log in with `certmaster login --server URL`; this server accepts Bearer, Digest or Basic',
      );
    } finally {
      agent.destroy();
    }
  });

  test('an unknown Bearer token: 401 credentials_invalid, the Bearer challenge with invalid_token', async () => {
    const reply = await get('/v1/whoami', { authorization: 'Bearer not-a-certmaster-token' });
    assert.equal(reply.status, 401);
    const lines = fieldLines(reply);
    const id = assertCommonHeaders(reply, lines);
    const challenges = lines['www-authenticate'] ?? [];
    const first = challenges[0] ?? '';
    assert.match(first, /^Bearer realm="certmaster", error="invalid_token", error_description="[^"\\]+"$/);
    assert.deepEqual(blanked(challenges.slice(1)), CHALLENGES_AFTER_BEARER);
    const body = JSON.parse(reply.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), [
      'type',
      'title',
      'status',
      'detail',
      'reason',
      'hint',
      'request_id',
      'instance',
    ]);
    assert.equal(body.status, 401);
    assert.equal(body.request_id, id);
    assert.equal(first.split('error_description="')[1], `${body.detail}"`);
  });

  test('Negotiate: 401 scheme_unsupported, the schemes named in the hint', async () => {
    const reply = await get('/v1/whoami', { authorization: 'Negotiate abc' });
    assert.equal(reply.status, 401);
    const lines = fieldLines(reply);
    const id = assertCommonHeaders(reply, lines);
    assert.deepEqual(blanked(lines['www-authenticate'] ?? []), [
      'Bearer realm="certmaster"',
      ...CHALLENGES_AFTER_BEARER,
    ]);
    const body = JSON.parse(reply.text) as Record<string, unknown>;
    assert.equal(body.reason, 'scheme_unsupported');
    assert.equal(body.request_id, id);
    assert.equal(
      body.hint,
      'this server accepts Bearer, Digest or Basic: use one of those (`certmaster login` gets a Bearer token)',
    );
  });

  test('a token without the scope: 403 insufficient_scope, the Bearer challenge alone', async () => {
    const { token } = await srv.frontDoor.opaqueTokens.create({
      kind: 'api',
      owner: ADMIN.name,
      scopes: ['requests:read'],
    });
    const reply = await get('/v1/certificates', { authorization: `Bearer ${token}` });
    assert.equal(reply.status, 403);
    const lines = fieldLines(reply);
    const id = assertCommonHeaders(reply, lines);
    const challenges = lines['www-authenticate'] ?? [];
    assert.equal(challenges.length, 1);
    assert.match(
      challenges[0] ?? '',
      /^Bearer realm="certmaster", scope="certificates:read", error="insufficient_scope", error_description="[^"\\]+"$/,
    );
    const body = JSON.parse(reply.text) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body), [
      'type',
      'title',
      'status',
      'detail',
      'reason',
      'hint',
      'request_id',
      'instance',
      'scope',
    ]);
    assert.equal(body.reason, 'insufficient_scope');
    assert.equal(body.scope, 'certificates:read');
    assert.equal(body.request_id, id);
  });
});
