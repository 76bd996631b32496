/**
 * ACME (RFC 8555) through the real HTTPS server: directory, nonces, accounts, orders, http-01 and
 * dns-01 validation against real listeners, finalize, download, revoke, and the refusals.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { TestAcmeClient } from '../helpers/acme-client.js';
import { tempDir } from '../helpers/cli.js';
import { startTestDns, type TestDns } from '../helpers/dns-server.js';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { openssl, opensslCsr, writeTemp } from '../helpers/openssl.js';

const tokens = new Map<string, string>();
let responder: Server;
let dns: TestDns;
let server: TestServer;
const tmp = tempDir('acme');

before(async () => {
  responder = createServer((req, res) => {
    const token = (req.url ?? '').replace('/.well-known/acme-challenge/', '');
    const answer = tokens.get(token);
    res.writeHead(answer ? 200 : 404).end(answer ?? 'no');
  });
  await new Promise<void>((resolve) => responder.listen(0, '127.0.0.1', resolve));
  const address = responder.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  dns = await startTestDns();
  server = await startTestServer({
    'ra.autosign': '*.acme.test',
    'acme.http01_port': String(port),
    'acme.resolver': dns.address,
  });
});

after(async () => {
  await server.close();
  await dns.close();
  await new Promise((resolve) => responder.close(resolve));
  tmp.remove();
});

/** `subject` "/" makes a CSR whose names are all SANs, as certbot and lego send. */
function csrDer(name: string, subject = `/CN=${name}`): string {
  const { csrPem } = opensslCsr(tmp.path, name, subject, { sans: [`DNS:${name}`] });
  const body = csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Buffer.from(body, 'base64').toString('base64url');
}

async function orderAndValidate(client: TestAcmeClient, name: string, type: 'http-01' | 'dns-01') {
  const order = await client.post(client.directory.newOrder ?? '', {
    identifiers: [{ type: 'dns', value: name }],
  });
  assert.equal(order.status, 201, order.text);
  const orderUrl = String(order.headers.location);
  const [authzUrl] = order.json.authorizations as string[];
  const authz = await client.post(authzUrl ?? '', null);
  assert.equal(authz.json.status, 'pending');
  const challenge = (authz.json.challenges as Array<{ type: string; url: string; token: string }>).find(
    (c) => c.type === type,
  );
  assert.ok(challenge);
  const keyAuthorization = `${challenge.token}.${await client.thumbprint()}`;
  if (type === 'http-01') tokens.set(challenge.token, keyAuthorization);
  else
    dns.txt.set(`_acme-challenge.${name}`, [
      createHash('sha256').update(keyAuthorization).digest('base64url'),
    ]);
  const answered = await client.post(challenge.url, {});
  assert.equal(answered.status, 200, answered.text);
  assert.match(String(answered.headers.link), /rel="up"/);
  // A validation that ends in milliseconds is answered with its outcome: no polling round (lego).
  assert.equal(answered.json.status, 'valid', answered.text);
  const done = await client.poll(authzUrl ?? '');
  return { orderUrl, order, authz: done };
}

describe('ACME', () => {
  it('serves the directory and nonces with Replay-Nonce and the index link', async () => {
    const dir = await call(`${server.url}/acme/directory`, { ca: server.caPem });
    assert.equal(dir.status, 200);
    for (const k of ['newNonce', 'newAccount', 'newOrder', 'revokeCert'])
      assert.match(String(dir.json[k]), /^https:/);
    const head = await call(`${server.url}/acme/new-nonce`, { method: 'HEAD', ca: server.caPem });
    assert.equal(head.status, 200);
    assert.match(String(head.headers['replay-nonce']), /^[A-Za-z0-9_-]+$/);
    assert.match(String(head.headers.link), /\/acme\/directory>;rel="index"/);
    const get = await call(`${server.url}/acme/new-nonce`, { ca: server.caPem });
    assert.equal(get.status, 204);
    assert.notEqual(get.headers['replay-nonce'], head.headers['replay-nonce']);
  });

  it('registers an account once per key and finds it with onlyReturnExisting', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem);
    const first = await client.register();
    assert.equal(first.status, 201, first.text);
    assert.equal(first.json.status, 'valid');
    const again = await client.post(
      client.directory.newAccount ?? '',
      { onlyReturnExisting: true },
      { useJwk: true },
    );
    assert.equal(again.status, 200);
    assert.equal(again.headers.location, client.kid);
    const stranger = await TestAcmeClient.create(server.url, server.caPem, 'EdDSA');
    const missing = await stranger.post(
      stranger.directory.newAccount ?? '',
      { onlyReturnExisting: true },
      { useJwk: true },
    );
    assert.equal(missing.status, 400);
    assert.equal(missing.json.type, 'urn:ietf:params:acme:error:accountDoesNotExist');
    assert.ok(missing.headers['replay-nonce']);
  });

  it('refuses a spent nonce with badNonce and a wrong url with unauthorized, as problem documents', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem, 'RS256');
    await client.register();
    const nonce = await client.freshNonce();
    const ok = await client.post(client.kid ?? '', null, { nonce });
    assert.equal(ok.status, 200, ok.text);
    const replay = await client.post(client.kid ?? '', null, { nonce });
    assert.equal(replay.status, 400);
    assert.equal(replay.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(replay.json.type, 'urn:ietf:params:acme:error:badNonce');
    assert.equal(replay.json.reason, 'acme_bad_nonce');
    assert.equal(replay.json.request_id, replay.headers['x-request-id']);
    assert.ok(replay.json.hint);
    const wrongUrl = await client.post(client.kid ?? '', null, { headerUrl: `${server.url}/acme/elsewhere` });
    assert.equal(wrongUrl.json.type, 'urn:ietf:params:acme:error:unauthorized');
  });

  it('answers a POST that is not application/jose+json with 415 and an oversized body with 413 (RFC 8555 §6.2)', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem);
    const url = client.directory.newAccount ?? '';
    const wrongType = await call(url, {
      method: 'POST',
      ca: server.caPem,
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(wrongType.status, 415, wrongType.text);
    assert.equal(wrongType.json.type, 'urn:ietf:params:acme:error:malformed');
    assert.equal(wrongType.json.reason, 'unsupported_media_type');
    const huge = await call(url, {
      method: 'POST',
      ca: server.caPem,
      body: JSON.stringify({ payload: 'x'.repeat(2 * 1024 * 1024) }),
      headers: { 'content-type': 'application/jose+json' },
    });
    assert.equal(huge.status, 413, huge.text);
    assert.equal(huge.json.reason, 'body_too_large');
  });

  it('refuses names outside ra.autosign with rejectedIdentifier naming each one', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem);
    await client.register();
    const r = await client.post(client.directory.newOrder ?? '', {
      identifiers: [
        { type: 'dns', value: 'ok.acme.test' },
        { type: 'dns', value: 'db.example.com' },
      ],
    });
    assert.equal(r.status, 403, r.text); // the refusal table: name_not_allowed is 403
    assert.equal(r.json.type, 'urn:ietf:params:acme:error:rejectedIdentifier');
    assert.equal(r.json.reason, 'name_not_allowed');
    const sub = r.json.subproblems as Array<{ type: string; identifier: { value: string } }>;
    assert.deepEqual(
      sub.map((s) => s.identifier.value),
      ['db.example.com'],
    );
    assert.equal(sub[0]?.type, 'urn:ietf:params:acme:error:rejectedIdentifier');
  });

  it('issues over http-01, downloads the chain, refuses a mismatched CSR, and revokes by account', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem);
    await client.register();
    const { orderUrl, order, authz } = await orderAndValidate(client, 'www.acme.test', 'http-01');
    assert.equal(authz.json.status, 'valid', authz.text);
    const ready = await client.post(orderUrl, null);
    assert.equal(ready.json.status, 'ready');
    const finalizeUrl = String(order.json.finalize);
    const wrong = await client.post(finalizeUrl, { csr: csrDer('other.acme.test') });
    assert.equal(wrong.json.type, 'urn:ietf:params:acme:error:badCSR');
    const fin = await client.post(finalizeUrl, { csr: csrDer('www.acme.test') });
    assert.equal(fin.status, 200, fin.text);
    const valid = await client.poll(orderUrl);
    assert.equal(valid.json.status, 'valid');
    const chain = await client.post(String(valid.json.certificate), null);
    assert.equal(chain.headers['content-type'], 'application/pem-certificate-chain');
    const leaf = `${chain.text.split('-----END CERTIFICATE-----')[0]}-----END CERTIFICATE-----\n`;
    const caFile = writeTemp(tmp.path, 'ca.pem', server.caPem);
    const leafFile = writeTemp(tmp.path, 'leaf.pem', leaf);
    assert.equal(openssl(['verify', '-CAfile', caFile, leafFile]).code, 0);
    const der = Buffer.from(leaf.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64').toString(
      'base64url',
    );
    const revoked = await client.post(client.directory.revokeCert ?? '', { certificate: der, reason: 4 });
    assert.equal(revoked.status, 200, revoked.text);
    const twice = await client.post(client.directory.revokeCert ?? '', { certificate: der });
    assert.equal(twice.json.type, 'urn:ietf:params:acme:error:alreadyRevoked');
  });

  it('validates dns-01 through acme.resolver, and marks a failed http-01 invalid with what it saw', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem);
    await client.register();
    const good = await orderAndValidate(client, 'dns.acme.test', 'dns-01');
    assert.equal(good.authz.json.status, 'valid', good.authz.text);
    const order = await client.post(client.directory.newOrder ?? '', {
      identifiers: [{ type: 'dns', value: 'nothere.acme.test' }],
    });
    const [authzUrl] = order.json.authorizations as string[];
    const authz = await client.post(authzUrl ?? '', null);
    const challenge = (authz.json.challenges as Array<{ type: string; url: string }>).find(
      (c) => c.type === 'http-01',
    );
    await client.post(challenge?.url ?? '', {});
    const failed = await client.poll(authzUrl ?? '');
    assert.equal(failed.json.status, 'invalid');
    const after = await client.post(String(order.headers.location), null);
    assert.equal(after.json.status, 'invalid');
    assert.equal((after.json.error as { type: string }).type, 'urn:ietf:params:acme:error:unauthorized');
  });

  it('finalizes a CSR with an empty subject and the names only as SANs (as certbot sends), the first SAN as CN', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem);
    await client.register();
    const { orderUrl, order, authz } = await orderAndValidate(client, 'nocn.acme.test', 'http-01');
    assert.equal(authz.json.status, 'valid', authz.text);
    const fin = await client.post(String(order.json.finalize), { csr: csrDer('nocn.acme.test', '/') });
    assert.equal(fin.status, 200, fin.text);
    const valid = await client.poll(orderUrl);
    assert.equal(valid.json.status, 'valid', valid.text);
    const chain = await client.post(String(valid.json.certificate), null);
    const leafFile = writeTemp(tmp.path, 'nocn.pem', chain.text);
    const text = openssl(['x509', '-in', leafFile, '-noout', '-subject', '-ext', 'subjectAltName']).stdout;
    assert.match(text, /CN ?= ?nocn\.acme\.test/);
    assert.match(text, /DNS:nocn\.acme\.test/);
  });
});
