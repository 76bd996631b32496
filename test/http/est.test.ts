/**
 * EST (RFC 7030) over real TLS on 127.0.0.1, driven the way RFC 7030's appendix and common EST guides
 * do it: openssl makes a base64 CSR, curl posts it with an account, a token or the client certificate,
 * and openssl decodes the certs-only CMS answer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createAccount } from '../../src/auth/accounts.js';
import { curl, header } from '../e2e/curl.js';
import { tempDir } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const sh = promisify(execFile);
const tmp = tempDir('est');
let server: TestServer;
let caFile: string;
let est: string;
const ADMIN = { name: 'admin', password: 'correct horse battery staple', digest: true };
const HOST = { name: 'router1.est.example', password: 'router one secret passphrase' };
const WAITER = { name: 'waiter', password: 'a host account without names' };
const ACTOR = {
  name: 'admin',
  requestId: 'test',
  address: null,
  method: 'basic' as const,
  credentialId: null,
};

/** Runs a shell pipeline in the temp directory without blocking the in-process server. */
async function run(script: string): Promise<string> {
  const { stdout } = await sh('sh', ['-ec', script], { cwd: tmp.path, encoding: 'utf8' });
  return stdout;
}

/** `openssl req ... -outform DER | openssl base64 > NAME.b64`, with the key in NAME.key. */
async function csr(name: string, subject: string, sans: string[] = []): Promise<string> {
  const san = sans.length > 0 ? `-addext 'subjectAltName=${sans.join(',')}'` : '';
  await run(
    `openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ${name}.key -subj '${subject}' ${san} -outform DER | openssl base64 > ${name}.b64`,
  );
  return join(tmp.path, `${name}.b64`);
}

/** The certificates of a base64 certs-only CMS body, as `openssl pkcs7 -print_certs` prints them. */
async function printCerts(body: string, name: string): Promise<string> {
  writeFileSync(join(tmp.path, `${name}.p7.b64`), body);
  return run(`openssl base64 -d -in ${name}.p7.b64 | openssl pkcs7 -inform DER -print_certs`);
}

function enrollArgs(b64: string, path = 'simpleenroll'): string[] {
  return ['--data-binary', `@${b64}`, '-H', 'Content-Type: application/pkcs10', `${est}/${path}`];
}

before(async () => {
  server = await startTestServer({ 'est.labels': 'routers=client' }, { admin: ADMIN });
  caFile = join(tmp.path, 'ca.pem');
  writeFileSync(caFile, server.caPem);
  est = `${server.url}/.well-known/est`;
  await createAccount(server.frontDoor.accounts, { ...HOST, role: 'host', digest: true });
  await createAccount(server.frontDoor.accounts, {
    ...WAITER,
    role: 'host',
    digest: false,
    namePatterns: [],
  });
});

after(async () => {
  await server.close();
  tmp.remove();
});

describe('cacerts and csrattrs', () => {
  test('cacerts is a base64 certs-only CMS holding the CA certificate, without credentials', async () => {
    const res = await curl(caFile, [`${est}/cacerts`]);
    assert.equal(res.final.status, 200);
    assert.match(header(res.final, 'content-type') ?? '', /^application\/pkcs7-mime; smime-type=certs-only/);
    assert.equal(header(res.final, 'content-transfer-encoding'), 'base64');
    const certs = await printCerts(res.final.body, 'cacerts');
    assert.match(certs, /subject=CN\s*=\s*test CA/);
    assert.equal((certs.match(/BEGIN CERTIFICATE/g) ?? []).length, 1);
  });

  test('csrattrs answers 204 (no attributes required), also under a label', async () => {
    assert.equal((await curl(caFile, [`${est}/csrattrs`])).final.status, 204);
    assert.equal((await curl(caFile, [`${est}/routers/csrattrs`])).final.status, 204);
  });

  test('an unknown label is 404 naming the labels there are', async () => {
    const res = await curl(caFile, [`${est}/nosuch/cacerts`]);
    assert.equal(res.final.status, 404);
    assert.equal(res.json.reason, 'not_found');
    assert.match(String(res.json.hint), /routers/);
  });
});

describe('simpleenroll', () => {
  test('with Basic: the host account gets its certificate at once, which openssl verifies', async () => {
    const b64 = await csr('r1', `/CN=${HOST.name}`, [`DNS:${HOST.name}`]);
    const res = await curl(caFile, ['--user', `${HOST.name}:${HOST.password}`, ...enrollArgs(b64)]);
    assert.equal(res.final.status, 200, res.final.body);
    assert.equal(header(res.final, 'content-transfer-encoding'), 'base64');
    const pem = await printCerts(res.final.body, 'r1');
    assert.match(pem, new RegExp(`subject=CN\\s*=\\s*${HOST.name}`));
    writeFileSync(join(tmp.path, 'r1.pem'), pem);
    assert.match(await run('openssl verify -CAfile ca.pem r1.pem'), /r1\.pem: OK/);
  });

  test('with Digest: curl answers the challenge', async () => {
    const b64 = await csr('d1', '/CN=digest.est.example', ['DNS:digest.est.example']);
    const res = await curl(caFile, [
      '--digest',
      '--user',
      `${ADMIN.name}:${ADMIN.password}`,
      ...enrollArgs(b64),
    ]);
    assert.equal(res.responses[0]?.status, 401);
    assert.equal(res.final.status, 200, res.final.body);
    assert.match(await printCerts(res.final.body, 'd1'), /subject=CN\s*=\s*digest\.est\.example/);
  });

  test('without credentials: 401 naming the schemes', async () => {
    const b64 = await csr('anon', '/CN=anon.est.example');
    const res = await curl(caFile, enrollArgs(b64));
    assert.equal(res.final.status, 401);
    assert.equal(res.json.reason, 'credentials_missing');
    const challenges = res.final.headers.get('www-authenticate') ?? [];
    assert.ok(challenges.some((c) => c.startsWith('Basic ')));
    assert.ok(challenges.some((c) => c.startsWith('Digest ')));
  });

  test('names the account may not have: 403 saying why', async () => {
    const b64 = await csr('other', '/CN=other.est.example');
    const res = await curl(caFile, ['--user', `${HOST.name}:${HOST.password}`, ...enrollArgs(b64)]);
    assert.equal(res.final.status, 403);
    assert.equal(res.json.reason, 'name_not_allowed');
    assert.match(String(res.json.detail), /other\.est\.example/);
  });

  test('waiting for an operator: 202 with Retry-After, then the same request returns the certificate', async () => {
    const b64 = await csr('w1', '/CN=wait.est.example');
    const args = ['--user', `${WAITER.name}:${WAITER.password}`, ...enrollArgs(b64)];
    const first = await curl(caFile, args);
    assert.equal(first.final.status, 202, first.final.body);
    assert.match(header(first.final, 'retry-after') ?? '', /^\d+$/);
    const again = await curl(caFile, args);
    assert.equal(again.final.status, 202);
    await server.instance.ra.approve('wait.est.example', ACTOR);
    const signed = await curl(caFile, args);
    assert.equal(signed.final.status, 200, signed.final.body);
    assert.match(await printCerts(signed.final.body, 'w1'), /subject=CN\s*=\s*wait\.est\.example/);
  });

  test('a rejected request is refused 403 request_rejected with the operator’s reason', async () => {
    const b64 = await csr('w2', '/CN=nope.est.example');
    const args = ['--user', `${WAITER.name}:${WAITER.password}`, ...enrollArgs(b64)];
    assert.equal((await curl(caFile, args)).final.status, 202);
    await server.instance.ra.reject('nope.est.example', ACTOR, 'not one of ours');
    const res = await curl(caFile, args);
    assert.equal(res.final.status, 403);
    assert.equal(res.json.reason, 'request_rejected');
    assert.match(String(res.json.detail), /not one of ours/);
  });

  test('a body that is not a base64 CSR, or the wrong media type, is refused saying what to send', async () => {
    const garbage = await curl(caFile, [
      '--user',
      `${ADMIN.name}:${ADMIN.password}`,
      '--data-binary',
      'not base64 at all!',
      '-H',
      'Content-Type: application/pkcs10',
      `${est}/simpleenroll`,
    ]);
    assert.equal(garbage.final.status, 400);
    assert.equal(garbage.json.reason, 'csr_invalid');
    const json = await curl(caFile, [
      '--user',
      `${ADMIN.name}:${ADMIN.password}`,
      '--data-binary',
      '{}',
      '-H',
      'Content-Type: application/json',
      `${est}/simpleenroll`,
    ]);
    assert.equal(json.final.status, 415);
    assert.match(String(json.json.hint), /application\/pkcs10/);
  });

  test('a label issues its profile: routers get clientAuth only', async () => {
    const b64 = await csr('lab', '/CN=edge.est.example');
    const res = await curl(caFile, [
      '--user',
      `${ADMIN.name}:${ADMIN.password}`,
      ...enrollArgs(b64, 'routers/simpleenroll'),
    ]);
    assert.equal(res.final.status, 200, res.final.body);
    writeFileSync(join(tmp.path, 'lab.pem'), await printCerts(res.final.body, 'lab'));
    const text = await run('openssl x509 -in lab.pem -noout -ext extendedKeyUsage');
    assert.match(text, /TLS Web Client Authentication/);
    assert.doesNotMatch(text, /TLS Web Server Authentication/);
  });
});

describe('simplereenroll over mutual TLS', () => {
  let certFile: string;
  let keyFile: string;

  before(async () => {
    const b64 = await csr('m1', '/CN=mtls.est.example', ['DNS:mtls.est.example']);
    const res = await curl(caFile, ['--user', `${ADMIN.name}:${ADMIN.password}`, ...enrollArgs(b64)]);
    assert.equal(res.final.status, 200, res.final.body);
    certFile = join(tmp.path, 'm1.pem');
    keyFile = join(tmp.path, 'm1.key');
    writeFileSync(certFile, await printCerts(res.final.body, 'm1'));
  });

  test('a new key for the same names, authenticated by the current certificate', async () => {
    const b64 = await csr('m2', '/CN=mtls.est.example', ['DNS:mtls.est.example']);
    const res = await curl(caFile, [
      '--cert',
      certFile,
      '--key',
      keyFile,
      ...enrollArgs(b64, 'simplereenroll'),
    ]);
    assert.equal(res.final.status, 200, res.final.body);
    writeFileSync(join(tmp.path, 'm2.pem'), await printCerts(res.final.body, 'm2'));
    assert.match(await run('openssl verify -CAfile ca.pem m2.pem'), /m2\.pem: OK/);
    // The new certificate belongs to the new key.
    const certKey = await run('openssl x509 -in m2.pem -noout -pubkey');
    const newKey = await run('openssl pkey -in m2.key -pubout');
    assert.equal(certKey, newKey);
  });

  test('other names are refused: a renewal keeps the subject and subjectAltName (RFC 7030 §4.2.2)', async () => {
    const b64 = await csr('m3', '/CN=mtls.est.example', ['DNS:mtls.est.example', 'DNS:more.est.example']);
    const res = await curl(caFile, [
      '--cert',
      certFile,
      '--key',
      keyFile,
      ...enrollArgs(b64, 'simplereenroll'),
    ]);
    assert.equal(res.final.status, 403);
    assert.equal(res.json.reason, 'name_not_allowed');
    assert.match(String(res.json.detail), /exactly the names/);
  });

  test('with a password instead of the certificate: 403 saying to present it', async () => {
    const b64 = await csr('m4', '/CN=mtls.est.example', ['DNS:mtls.est.example']);
    const res = await curl(caFile, [
      '--user',
      `${ADMIN.name}:${ADMIN.password}`,
      ...enrollArgs(b64, 'simplereenroll'),
    ]);
    assert.equal(res.final.status, 403);
    assert.equal(res.json.reason, 'forbidden');
    assert.match(String(res.json.hint), /--cert/);
  });

  test('with nothing: 401 saying to present the certificate', async () => {
    const b64 = await csr('m5', '/CN=mtls.est.example', ['DNS:mtls.est.example']);
    const res = await curl(caFile, enrollArgs(b64, 'simplereenroll'));
    assert.equal(res.final.status, 401);
    assert.match(String(res.json.hint), /--cert/);
  });

  test('a revoked certificate cannot re-enroll', async () => {
    const serial = (await run('openssl x509 -in m1.pem -noout -serial')).trim().split('=')[1] ?? '';
    await server.instance.ra.revoke(serial, 'keyCompromise', ACTOR);
    const b64 = await csr('m6', '/CN=mtls.est.example', ['DNS:mtls.est.example']);
    const res = await curl(caFile, [
      '--cert',
      certFile,
      '--key',
      keyFile,
      ...enrollArgs(b64, 'simplereenroll'),
    ]);
    assert.equal(res.final.status, 401);
    assert.equal(res.json.reason, 'client_certificate_invalid');
    assert.match(String(res.json.detail), /revoked at/);
  });
});
