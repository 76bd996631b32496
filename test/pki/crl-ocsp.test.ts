/**
 * CRL and OCSP end to end: a real server with its plain-HTTP public listener, real openssl as the relying
 * party, and `certmaster ca revoke` run as a separate process on the same data directory.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { cliAsync, tempDir } from '../helpers/cli.js';
import { postCsr } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { openssl, opensslCsr } from '../helpers/openssl.js';

/** openssl without blocking the event loop: the server it talks to runs in this process. */
async function opensslAsync(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn('openssl', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code: code ?? -1, stdout, stderr };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host: '127.0.0.1', port: 0 }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

describe('CRL and OCSP over the public plain-HTTP listener', () => {
  let server: TestServer;
  let publicBase: string;
  const tmp = tempDir('pki');
  const caFile = join(tmp.path, 'ca.pem');
  const certs: Record<string, { path: string; serial: string }> = {};

  before(async () => {
    const port = await freePort();
    publicBase = `http://127.0.0.1:${port}`;
    server = await startTestServer({
      'ra.autosign': 'all',
      'ca.public_url': 'https://127.0.0.1:8443',
      'server.public_http_listen': `127.0.0.1:${port}`,
    });
    writeFileSync(caFile, server.caPem);
    for (const name of ['good', 'bad']) {
      const { csrPem } = opensslCsr(tmp.path, name, `/CN=${name}.example.com`);
      const reply = await postCsr(server.url, server.caPem, csrPem);
      assert.equal(reply.status, 201, reply.text);
      const certificate = reply.json.certificate as string;
      const path = join(tmp.path, `${name}.pem`);
      writeFileSync(path, certificate);
      const serial = openssl(['x509', '-in', path, '-noout', '-serial']).stdout.trim().split('=')[1] ?? '';
      certs[name] = { path, serial: serial.toLowerCase() };
    }
  });

  after(async () => {
    await server.close();
    tmp.remove();
  });

  const ocspStatus = (name: string) =>
    opensslAsync([
      'ocsp',
      '-issuer',
      caFile,
      '-cert',
      certs[name]!.path,
      '-url',
      `${publicBase}/ocsp`,
      '-CAfile',
      caFile,
    ]);

  const fetchCrl = async (): Promise<{ number: number; pemPath: string; text: string }> => {
    const res = await fetch(`${publicBase}/crl`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pkix-crl');
    const derPath = join(tmp.path, 'crl.der');
    writeFileSync(derPath, Buffer.from(await res.arrayBuffer()));
    const pemPath = join(tmp.path, 'crl.pem');
    assert.equal(openssl(['crl', '-inform', 'DER', '-in', derPath, '-out', pemPath]).code, 0);
    const r = openssl(['crl', '-inform', 'DER', '-in', derPath, '-noout', '-text']);
    assert.equal(r.code, 0, r.stderr);
    const number = /X509v3 CRL Number:\s*\n\s*(\d+)/.exec(r.stdout)?.[1];
    assert.ok(number, `${r.stdout}${r.stderr}`);
    return { number: Number(number), pemPath, text: r.stdout };
  };

  test('issued certificates name the CRL and OCSP URLs on the public listener', () => {
    const text = openssl(['x509', '-in', certs.good!.path, '-noout', '-text']).stdout;
    assert.match(text, new RegExp(`URI:${publicBase}/crl`));
    assert.match(text, new RegExp(`OCSP - URI:${publicBase}/ocsp`));
    assert.match(text, new RegExp(`CA Issuers - URI:${publicBase}/ca.crt`));
  });

  test('openssl ocsp says good, then revoked (with reason) at once after `certmaster ca revoke`', async () => {
    const before = await ocspStatus('bad');
    assert.equal(before.code, 0, before.stderr);
    assert.match(before.stdout, /bad\.pem: good/);
    assert.match(before.stderr + before.stdout, /Response verify OK/);
    assert.doesNotMatch(before.stderr + before.stdout, /nonce/i, 'the nonce openssl sent came back');
    const firstCrl = await fetchCrl();
    assert.doesNotMatch(firstCrl.text, new RegExp(certs.bad!.serial, 'i'));
    const verifyGood = openssl([
      'verify',
      '-crl_check',
      '-CRLfile',
      firstCrl.pemPath,
      '-CAfile',
      caFile,
      certs.bad!.path,
    ]);
    assert.equal(verifyGood.code, 0, verifyGood.stderr);

    const revoke = await cliAsync([
      'ca',
      'revoke',
      certs.bad!.serial,
      '--reason',
      'keyCompromise',
      '--data',
      server.dataDir,
    ]);
    assert.equal(revoke.code, 0, revoke.stderr);

    const afterRevoke = await ocspStatus('bad');
    assert.match(afterRevoke.stdout, /bad\.pem: revoked/);
    assert.match(afterRevoke.stdout, /Reason: keyCompromise/);
    assert.match((await ocspStatus('good')).stdout, /good\.pem: good/);

    const secondCrl = await fetchCrl();
    assert.ok(secondCrl.number > firstCrl.number, `${secondCrl.number} > ${firstCrl.number}`);
    assert.match(secondCrl.text, /Key Compromise/);
    const good = openssl([
      'verify',
      '-crl_check',
      '-CRLfile',
      secondCrl.pemPath,
      '-CAfile',
      caFile,
      certs.good!.path,
    ]);
    assert.equal(good.code, 0, good.stderr);
    const bad = openssl([
      'verify',
      '-crl_check',
      '-CRLfile',
      secondCrl.pemPath,
      '-CAfile',
      caFile,
      certs.bad!.path,
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout + bad.stderr, /certificate revoked/);
  });

  test('the CRL answers conditional requests with 304', async () => {
    const first = await fetch(`${publicBase}/crl.pem`);
    assert.equal(first.status, 200);
    assert.match(await first.text(), /BEGIN X509 CRL/);
    const etag = first.headers.get('etag');
    const lastModified = first.headers.get('last-modified');
    assert.ok(etag && lastModified);
    assert.equal((await fetch(`${publicBase}/crl.pem`, { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal(
      (await fetch(`${publicBase}/crl.pem`, { headers: { 'if-modified-since': lastModified } })).status,
      304,
    );
  });

  test('GET /ocsp/{base64} answers with caching headers tied to nextUpdate', async () => {
    const reqPath = join(tmp.path, 'req.der');
    const made = openssl([
      'ocsp',
      '-issuer',
      caFile,
      '-cert',
      certs.good!.path,
      '-no_nonce',
      '-reqout',
      reqPath,
    ]);
    assert.equal(made.code, 0, made.stderr);
    const b64 = openssl(['base64', '-A', '-in', reqPath]).stdout.trim();
    const res = await fetch(`${publicBase}/ocsp/${encodeURIComponent(b64)}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/ocsp-response');
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get('cache-control') ?? '')?.[1]);
    assert.ok(maxAge > 0 && maxAge <= 3600, res.headers.get('cache-control') ?? '');
    assert.ok(res.headers.get('etag'));
    const respPath = join(tmp.path, 'resp.der');
    writeFileSync(respPath, Buffer.from(await res.arrayBuffer()));
    const shown = openssl(['ocsp', '-respin', respPath, '-resp_text', '-noverify']);
    assert.match(shown.stdout, /Cert Status: good/);
    assert.match(shown.stdout, /Next Update:/);
  });

  test('the public listener serves nothing but the PKI paths', async () => {
    for (const path of ['/v1/certificates', '/v1/ca', '/openapi.json', '/healthz', '/oauth/token']) {
      assert.equal((await fetch(`${publicBase}${path}`)).status, 404, path);
    }
    assert.equal((await fetch(`${publicBase}/ca.pem`)).status, 200);
    assert.equal((await fetch(`${publicBase}/ca.crt`)).status, 200);
  });

  test('random bytes to /ocsp never produce a 5xx: malformedRequest instead', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), async (bytes) => {
        const res = await fetch(`${publicBase}/ocsp`, {
          method: 'POST',
          headers: { 'content-type': 'application/ocsp-request' },
          body: bytes,
        });
        assert.ok(res.status < 500, `status ${res.status}`);
        assert.equal(res.status, 200);
        const body = Buffer.from(await res.arrayBuffer());
        // OCSPResponse { responseStatus malformedRequest(1) }: 30 03 0a 01 01
        assert.deepEqual([...body], [0x30, 0x03, 0x0a, 0x01, 0x01]);
        const get = await fetch(`${publicBase}/ocsp/${Buffer.from(bytes).toString('base64url')}`);
        assert.ok(get.status < 500, `GET status ${get.status}`);
      }),
      { numRuns: 150 },
    );
    const big = await fetch(`${publicBase}/ocsp`, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: new Uint8Array(100_000),
    });
    assert.equal(big.status, 413);
  });
});
