/**
 * Every refusal of POST /v1/requests is a 4xx with a problem+json body that names the field and
 * says why, over real HTTPS; and no malformed input ever earns a 5xx.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { makeCsr } from '../../src/client/csr.js';
import { generateKeyPair } from '../../src/util/keys.js';
import { derToPem } from '../../src/util/pem.js';
import { tempDir } from '../helpers/cli.js';
import { call, postCsr, type Reply } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';

let srv: TestServer;
let agent: https.Agent;
const tmp = tempDir('refusals');
const ecKey = generateKeyPair('ec-p256').privateKey;

before(async () => {
  srv = await startTestServer({ 'ra.autosign': 'all' });
  agent = new https.Agent({ keepAlive: true, ca: srv.caPem });
});
after(async () => {
  agent.destroy();
  await srv.close();
  tmp.remove();
});

function assertProblem(reply: Reply, status: number, reason: string): void {
  assert.equal(reply.status, status, reply.text);
  assert.match(String(reply.headers['content-type']), /^application\/problem\+json/);
  assert.equal(reply.json.status, status);
  assert.equal(reply.json.reason, reason);
  assert.equal(typeof reply.json.title, 'string');
  assert.equal(typeof reply.json.detail, 'string');
  assert.ok(String(reply.json.hint).length > 10, 'a hint a person can act on');
  assert.equal(reply.json.request_id, reply.headers['x-request-id']);
}

/** A CSR with exactly the names given, encoded faithfully whatever they contain. */
async function csrWithNames(cn: string, dns: string[]): Promise<string> {
  return makeCsr(ecKey, 'ec-p256', cn, dns);
}

describe('POST /v1/requests refusals', () => {
  test('a CSR whose signature does not verify', async () => {
    const good = await csrWithNames('sig.example.com', []);
    const der = Buffer.from(good.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] = (der[der.length - 5] ?? 0) ^ 0x01;
    const reply = await postCsr(srv.url, srv.caPem, derToPem(der, 'CERTIFICATE REQUEST'), agent);
    assertProblem(reply, 400, 'csr_invalid');
    assert.equal(reply.json.field, 'signature');
  });

  const badNames: Array<[string, string, string[], RegExp]> = [
    ['a path separator', 'web/1.example.com', [], /"\/"/],
    ['a control character', 'bad\u0001name.example.com', [], /\\u0001/],
    ['a wildcard', 'ok.example.com', ['*.example.com'], /wildcard/i],
    ['an empty label', 'a..b.example.com', [], /empty|label/i],
    ['a leading hyphen', '-lead.example.com', [], /hyphen/i],
  ];
  for (const [what, cn, dns, pattern] of badNames) {
    test(`a name with ${what}`, async () => {
      const reply = await postCsr(srv.url, srv.caPem, await csrWithNames(cn, dns), agent);
      assertProblem(reply, 400, 'name_invalid');
      assert.match(String(reply.json.detail), pattern);
      const problems = reply.json.problems as Array<{ field: string; message: string }>;
      assert.ok(Array.isArray(problems) && problems.length >= 1);
      assert.ok(
        ![...reply.text].some((ch) => ch.charCodeAt(0) < 0x20),
        'no raw control characters in the answer',
      );
    });
  }

  test('more names than the limit', async () => {
    const many = Array.from({ length: 25 }, (_, i) => `n${i}.example.com`);
    const reply = await postCsr(srv.url, srv.caPem, await csrWithNames('many.example.com', many), agent);
    assertProblem(reply, 400, 'name_invalid');
    assert.match(String(reply.json.detail), /20/);
  });

  test('an e-mail address in the SAN', async () => {
    const { privateKey } = generateKeyPair('ec-p256');
    const { keys } = await import('../../src/util/keys.js').then((m) =>
      m.toWebCryptoPair(privateKey, 'ec-p256'),
    );
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: [{ CN: ['mail.example.com'] }],
      keys: keys as unknown as Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0]['keys'],
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as unknown as Parameters<
        typeof x509.Pkcs10CertificateRequestGenerator.create
      >[0]['signingAlgorithm'],
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'email', value: 'a@example.com' }])],
    });
    const reply = await postCsr(srv.url, srv.caPem, csr.toString('pem'), agent);
    assertProblem(reply, 400, 'name_invalid');
    assert.match(String(reply.json.detail), /rfc822Name/);
  });

  test('a weak RSA key made by openssl', async () => {
    const { csrPem } = opensslCsr(tmp.path, 'weak', '/CN=weak.example.com', { keyAlg: 'rsa:1024' });
    const reply = await postCsr(srv.url, srv.caPem, csrPem, agent);
    assertProblem(reply, 400, 'key_too_weak');
    assert.match(String(reply.json.detail), /1024 bits/);
    assert.match(String(reply.json.detail), /2048/);
  });

  test('an oversized body', async () => {
    const reply = await call(`${srv.url}/v1/requests`, {
      method: 'POST',
      ca: srv.caPem,
      body: JSON.stringify({ csr: 'A'.repeat(100_000) }),
      headers: { 'content-type': 'application/json' },
      agent,
    });
    assertProblem(reply, 413, 'body_too_large');
  });

  test('a body that is not JSON, JSON without csr, and a CSR that is not PEM', async () => {
    assertProblem(
      await call(`${srv.url}/v1/requests`, {
        method: 'POST',
        ca: srv.caPem,
        body: 'csr',
        headers: { 'content-type': 'text/plain' },
        agent,
      }),
      415,
      'unsupported_media_type',
    );
    assertProblem(
      await call(`${srv.url}/v1/requests`, {
        method: 'POST',
        ca: srv.caPem,
        body: '{"csr":',
        headers: { 'content-type': 'application/json' },
        agent,
      }),
      400,
      'invalid_request',
    );
    assertProblem(
      await call(`${srv.url}/v1/requests`, {
        method: 'POST',
        ca: srv.caPem,
        body: '{"pem":"x"}',
        headers: { 'content-type': 'application/json' },
        agent,
      }),
      400,
      'invalid_request',
    );
    const notPem = await postCsr(srv.url, srv.caPem, 'hello', agent);
    assertProblem(notPem, 400, 'csr_invalid');
  });

  test('a different CSR for a name with a pending request is a conflict; the same CSR is idempotent', async () => {
    srv.instance.reloadConfig();
    const { setSetting } = await import('../../src/config/file.js');
    setSetting(srv.instance.layout.config, 'ra.autosign', 'off');
    srv.instance.reloadConfig();
    try {
      const first = await csrWithNames('pend.example.com', []);
      const a = await postCsr(srv.url, srv.caPem, first, agent);
      assert.equal(a.status, 201);
      assert.equal(a.json.state, 'pending');
      assert.equal(a.headers['retry-after'], String(srv.instance.config().ra.pending_retry_after_seconds));
      assert.match(String(a.json.id), /^[A-Za-z0-9_-]{30}$/, 'a 48-bit time prefix and 128 random bits');
      const again = await postCsr(srv.url, srv.caPem, first, agent);
      assert.equal(again.status, 200);
      assert.equal(again.json.id, a.json.id);
      const other = await makeCsr(generateKeyPair('ec-p256').privateKey, 'ec-p256', 'pend.example.com', []);
      const conflict = await postCsr(srv.url, srv.caPem, other, agent);
      assertProblem(conflict, 409, 'request_conflict');
      assert.match(String(conflict.json.detail), /pend\.example\.com/);
      const unknown = await call(`${srv.url}/v1/requests/AAAAAAAAAAAAAAAAAAAAAA`, { ca: srv.caPem, agent });
      assertProblem(unknown, 404, 'not_found');
    } finally {
      setSetting(srv.instance.layout.config, 'ra.autosign', 'all');
      srv.instance.reloadConfig();
    }
  });
});

describe('no malformed input earns a 5xx', () => {
  const pemOf = (body: string) =>
    `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`;
  test('random bytes, random strings and random PEM (property-based)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 2048 }).map((b) => ({ raw: Buffer.from(b) })),
          fc.string({ maxLength: 512 }).map((s) => ({ raw: Buffer.from(JSON.stringify({ csr: s })) })),
          fc.uint8Array({ minLength: 1, maxLength: 1500 }).map((b) => ({
            raw: Buffer.from(JSON.stringify({ csr: pemOf(Buffer.from(b).toString('base64')) })),
          })),
          fc.jsonValue({ maxDepth: 3 }).map((v) => ({ raw: Buffer.from(JSON.stringify({ csr: v })) })),
        ),
        async ({ raw }) => {
          const reply = await call(`${srv.url}/v1/requests`, {
            method: 'POST',
            ca: srv.caPem,
            body: raw,
            headers: { 'content-type': 'application/json' },
            agent,
          });
          assert.ok(reply.status >= 400 && reply.status < 500, `status ${reply.status}: ${reply.text}`);
          assert.equal(reply.json.request_id, reply.headers['x-request-id']);
        },
      ),
      { numRuns: 150 },
    );
  });

  test('mutations of a valid CSR', async () => {
    const good = Buffer.from(
      (await csrWithNames('mut.example.com', ['m2.example.com'])).replace(/-----[^-]+-----|\s/g, ''),
      'base64',
    );
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: good.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (at, xor) => {
          const bad = Buffer.from(good);
          bad[at] = (bad[at] ?? 0) ^ xor;
          const reply = await postCsr(srv.url, srv.caPem, derToPem(bad, 'CERTIFICATE REQUEST'), agent);
          assert.ok(
            reply.status === 400 || reply.status === 409 || reply.status === 201 || reply.status === 200,
            `status ${reply.status}: ${reply.text}`,
          );
          if (reply.status >= 400) assert.equal(typeof reply.json.reason, 'string');
        },
      ),
      { numRuns: 150 },
    );
  });
});
