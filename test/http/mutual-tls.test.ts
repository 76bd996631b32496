/**
 * Mutual TLS on the API, over real TLS on 127.0.0.1 with the real curl and openssl s_client: a
 * certificate this CA issued authenticates its host; every failing certificate is refused 401
 * client_certificate_invalid with the cause in words; a revocation counts on the very next request.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseCsr, pemToDer } from '../../src/ca/csr.js';
import { explainRequest, renderRequestStory } from '../../src/ops/explain/index.js';
import { curl, header } from '../e2e/curl.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { openssl, opensslAsync, opensslCsr } from '../helpers/openssl.js';

const tmp = tempDir('mtls');
const clock = new MovableClock(Date.now());
let server: TestServer;
let caFile: string;
const ADMIN = { name: 'admin', password: 'correct horse battery staple', digest: true };

interface Issued {
  certFile: string;
  keyFile: string;
  serial: string;
}

/** Enrolls NAME through the API (autosigned) and writes its certificate and key to files. */
async function enroll(name: string): Promise<Issued> {
  const { csrPem, keyPath } = opensslCsr(tmp.path, name, `/CN=${name}`, { sans: [`DNS:${name}`] });
  const res = await curl(caFile, [
    '-X',
    'POST',
    '-H',
    'content-type: application/json',
    '--data-binary',
    JSON.stringify({ csr: csrPem }),
    `${server.url}/v1/requests`,
  ]);
  assert.equal(res.final.status, 201, res.final.body);
  const certFile = join(tmp.path, `${name}.pem`);
  writeFileSync(certFile, String(res.json.certificate));
  return { certFile, keyFile: keyPath, serial: String(res.json.serial) };
}

function spkiOf(csrPem: string): Buffer {
  return parseCsr(pemToDer(csrPem, 'CERTIFICATE REQUEST')).spki;
}

function withCert(c: Issued): string[] {
  return ['--cert', c.certFile, '--key', c.keyFile];
}

before(async () => {
  server = await startTestServer({ 'ra.autosign': '*.mtls.example' }, { clock, admin: ADMIN });
  caFile = join(tmp.path, 'ca.pem');
  writeFileSync(caFile, server.caPem);
});

after(async () => {
  await server.close();
  tmp.remove();
});

describe('a certificate this CA issued', () => {
  test('authenticates its host with curl --cert --key, and the audit record names the serial', async () => {
    const host = await enroll('web1.mtls.example');
    const res = await curl(caFile, [...withCert(host), `${server.url}/v1/whoami`]);
    assert.equal(res.final.status, 200, res.final.body);
    assert.equal(res.json.name, 'web1.mtls.example');
    assert.equal(res.json.method, 'client_certificate');
    assert.deepEqual(res.json.roles, ['host']);
    assert.equal(res.json.certificate_serial, host.serial);
    const requestId = header(res.final, 'x-request-id');
    assert.ok(requestId);
    const records = await server.instance.store.queryAudit({ requestId });
    const auth = records.find((r) => r.kind === 'auth.attempt');
    assert.ok(auth, 'an auth.attempt record');
    assert.equal(auth.method, 'client_certificate');
    assert.equal(auth.credentialId, host.serial);
    assert.equal(auth.principal, 'web1.mtls.example');
  });

  test('works with openssl s_client, which is told this CA is the one to present', async () => {
    const host = await enroll('web2.mtls.example');
    const { port } = new URL(server.url);
    const r = await opensslAsync(
      [
        's_client',
        '-connect',
        `127.0.0.1:${port}`,
        '-CAfile',
        caFile,
        '-cert',
        host.certFile,
        '-key',
        host.keyFile,
        '-quiet',
      ],
      'GET /v1/whoami HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    );
    assert.match(r.stdout, /^HTTP\/1\.1 200/, r.stdout + r.stderr);
    assert.match(r.stdout, /"method":"client_certificate"/);
    const names = await opensslAsync(['s_client', '-connect', `127.0.0.1:${port}`, '-CAfile', caFile], '');
    assert.match(names.stdout, /Acceptable client certificate CA names\n.*CN\s*=\s*test CA/);
  });

  test('is refused at once after revocation, with when and why', async () => {
    const host = await enroll('web3.mtls.example');
    const before = await curl(caFile, [...withCert(host), `${server.url}/v1/whoami`]);
    assert.equal(before.final.status, 200, before.final.body);
    await server.instance.ra.revoke(host.serial, 'keyCompromise', {
      name: 'admin',
      requestId: 'test',
      address: null,
      method: 'basic',
      credentialId: null,
    });
    const res = await curl(caFile, [...withCert(host), `${server.url}/v1/whoami`]);
    assert.equal(res.final.status, 401);
    assert.equal(res.json.reason, 'client_certificate_invalid');
    assert.match(String(res.json.detail), /revoked at \d{4}-\d\d-\d\dT[\d:.]+Z for reason keyCompromise/);
    assert.match(String(res.json.hint), /enroll again/);
    assert.ok(res.final.headers.get('www-authenticate'), '401 names the schemes');
    // The operator's side: explain tells which certificate, why, and the command that lets it enroll again.
    const requestId = header(res.final, 'x-request-id') ?? '';
    const story = await explainRequest(server.instance.store, requestId, {
      dataDir: server.dataDir,
      server: null,
    });
    assert.ok(story);
    const text = renderRequestStory(story);
    assert.ok(text.includes(`client certificate ${host.serial} revoked at`), text);
    assert.ok(text.includes('certmaster token create --enroll web3.mtls.example'), text);
  });

  test('an Authorization header takes precedence over the certificate', async () => {
    const host = await enroll('web4.mtls.example');
    await server.instance.store.revokeCertificate(host.serial, 'superseded', clock.now());
    const res = await curl(caFile, [
      ...withCert(host),
      '--user',
      `${ADMIN.name}:${ADMIN.password}`,
      `${server.url}/v1/whoami`,
    ]);
    assert.equal(res.final.status, 200, res.final.body);
    assert.equal(res.json.method, 'basic');
    assert.equal(res.json.name, 'admin');
  });
});

describe('a certificate that fails is refused 401 client_certificate_invalid', () => {
  test('expired: says when, and how to enroll again', async () => {
    const host = await enroll('old.mtls.example');
    const saved = clock.now();
    clock.advance(400 * 86400);
    try {
      const res = await curl(caFile, [...withCert(host), `${server.url}/v1/whoami`]);
      assert.equal(res.final.status, 401);
      assert.equal(res.json.reason, 'client_certificate_invalid');
      assert.match(String(res.json.detail), /expired at \d{4}-/);
      assert.match(String(res.json.hint), /certmaster request/);
    } finally {
      clock.set(saved);
    }
  });

  test('not yet valid: says from when', async () => {
    const host = await enroll('early.mtls.example');
    const saved = clock.now();
    clock.advance(-3600);
    try {
      const res = await curl(caFile, [...withCert(host), `${server.url}/v1/whoami`]);
      assert.equal(res.final.status, 401);
      assert.match(String(res.json.detail), /not yet valid: it is valid from/);
      assert.match(String(res.json.hint), /clock/);
    } finally {
      clock.set(saved);
    }
  });

  test('not issued by this CA', async () => {
    const keyFile = join(tmp.path, 'self.key');
    const certFile = join(tmp.path, 'self.pem');
    const made = openssl([
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      keyFile,
      '-out',
      certFile,
      '-subj',
      '/CN=web1.mtls.example',
      '-days',
      '1',
      '-addext',
      'extendedKeyUsage=clientAuth',
    ]);
    assert.equal(made.code, 0, made.stderr);
    const res = await curl(caFile, ['--cert', certFile, '--key', keyFile, `${server.url}/v1/whoami`]);
    assert.equal(res.final.status, 401);
    assert.equal(res.json.reason, 'client_certificate_invalid');
    assert.match(String(res.json.detail), /not issued by this CA/);
    assert.match(String(res.json.hint), /\/ca\.pem/);
  });

  test('without the clientAuth extended key usage', async () => {
    const { csrPem, keyPath } = opensslCsr(tmp.path, 'srv', '/CN=srv.mtls.example');
    const spki = spkiOf(csrPem);
    const leaf = server.instance.ca.issueLeaf({
      commonName: 'srv.mtls.example',
      dnsNames: ['srv.mtls.example'],
      ipAddresses: [],
      spki,
      validityDays: 1,
      now: clock.now(),
      profile: { serverAuth: true, clientAuth: false },
    });
    const certFile = join(tmp.path, 'srv.pem');
    writeFileSync(certFile, leaf.pem);
    const res = await curl(caFile, ['--cert', certFile, '--key', keyPath, `${server.url}/v1/whoami`]);
    assert.equal(res.final.status, 401);
    assert.match(String(res.json.detail), /lacks the clientAuth extended key usage/);
  });

  test('signed by the CA key but not on record (never stored) is not accepted', async () => {
    const { csrPem, keyPath } = opensslCsr(tmp.path, 'ghost', '/CN=ghost.mtls.example');
    const leaf = server.instance.ca.issueLeaf({
      commonName: 'ghost.mtls.example',
      dnsNames: ['ghost.mtls.example'],
      ipAddresses: [],
      spki: spkiOf(csrPem),
      validityDays: 1,
      now: clock.now(),
    });
    const certFile = join(tmp.path, 'ghost.pem');
    writeFileSync(certFile, leaf.pem);
    const res = await curl(caFile, ['--cert', certFile, '--key', keyPath, `${server.url}/v1/whoami`]);
    assert.equal(res.final.status, 401);
    assert.match(String(res.json.detail), /not issued by this CA/);
  });
});
