/**
 * Transport security of the real HTTPS listener: only TLS 1.3 and TLS 1.2 ECDHE with AES-GCM or
 * ChaCha20-Poly1305 handshake (checked with the openssl client), every HTTPS answer carries
 * Strict-Transport-Security, and answers listing accounts, tokens or audit records are not cacheable.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const ADMIN = { name: 'admin', password: 'Harbor-Velvet-Lantern-88', digest: false };
let server: TestServer;

before(async () => {
  server = await startTestServer({}, { admin: ADMIN });
});
after(async () => server.close());

/** openssl s_client, run asynchronously: the server answering it lives in this same process. */
function handshake(args: string[]): Promise<{ ok: boolean; output: string }> {
  const port = new URL(server.url).port;
  return new Promise((resolve) => {
    const child = spawn('openssl', [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-servername',
      'localhost',
      ...args,
    ]);
    let output = '';
    child.stdout.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      output += c.toString();
    });
    child.stdin.end('Q\n');
    child.on('close', (code) => {
      // A completed handshake names the negotiated cipher; a refused one says "(NONE)" or fails.
      resolve({ ok: code === 0 && /Cipher is (?!\(NONE\))/.test(output), output });
    });
  });
}

describe('TLS suites offered by the HTTPS listener', () => {
  for (const cipher of [
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
  ]) {
    test(`TLS 1.2 ${cipher} is accepted`, async () => {
      const r = await handshake(['-tls1_2', '-cipher', cipher]);
      assert.ok(r.ok, r.output);
    });
  }
  for (const cipher of [
    'ECDHE-ECDSA-AES128-SHA',
    'ECDHE-ECDSA-AES256-SHA',
    'ECDHE-ECDSA-AES128-SHA256',
    'ECDHE-ECDSA-AES256-SHA384',
  ]) {
    test(`TLS 1.2 CBC suite ${cipher} is refused`, async () => {
      const r = await handshake(['-tls1_2', '-cipher', `${cipher}:@SECLEVEL=0`]);
      assert.equal(r.ok, false, r.output);
    });
  }
  test('TLS 1.3 is accepted', async () => {
    const r = await handshake(['-tls1_3']);
    assert.ok(r.ok, r.output);
  });
  test('TLS 1.1 is refused', async () => {
    const r = await handshake(['-tls1_1', '-cipher', 'DEFAULT:@SECLEVEL=0']);
    assert.equal(r.ok, false, r.output);
  });
});

describe('headers on HTTPS answers', () => {
  const basic = `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}`;

  test('Strict-Transport-Security on success, refusal and public answers', async () => {
    for (const [path, headers] of [
      ['/v1/whoami', { authorization: basic }],
      ['/v1/whoami', {}],
      ['/ca.pem', {}],
      ['/healthz', {}],
    ] as const) {
      const r = await call(`${server.url}${path}`, { ca: server.caPem, headers });
      assert.equal(r.headers['strict-transport-security'], 'max-age=31536000', path);
    }
  });

  test('Cache-Control: no-store on answers listing accounts, tokens and audit records', async () => {
    for (const path of ['/v1/users', '/v1/tokens', '/v1/audit', '/v1/certificates', '/v1/requests']) {
      const r = await call(`${server.url}${path}`, { ca: server.caPem, headers: { authorization: basic } });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      assert.equal(r.headers['cache-control'], 'no-store', path);
    }
  });
});
