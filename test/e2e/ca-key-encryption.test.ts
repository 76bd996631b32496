/**
 * The CA key at rest under a passphrase (issue: private keys at rest), with the real bin: encrypt,
 * serve with the passphrase from a file, from the environment, refused without it or with a wrong
 * one (each message naming the ways to give it), local commands, doctor, decrypt, and the passphrase
 * never in any output or log, even at --log-level debug.
 */
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cli, cliAsync, startServer, tempDir } from '../helpers/cli.js';
import { openssl } from '../helpers/openssl.js';

const PASSPHRASE = 'Ledger-Quartz-Harvest-Orbit-72';
const tmp = tempDir('ca-key');
const data = join(tmp.path, 'data');
const caKey = join(data, 'ca', 'ca.key');
const passFile = join(tmp.path, 'ca-passphrase');
const wrongFile = join(tmp.path, 'wrong-passphrase');

before(() => {
  assert.equal(cli(['init', '--data', data]).code, 0);
  writeFileSync(passFile, `${PASSPHRASE}\n`, { mode: 0o600 });
  writeFileSync(wrongFile, 'Not-The-Passphrase-At-All\n', { mode: 0o600 });
  const set = cli(['config', 'set', 'ra.autosign', '*.fleet.example', '--data', data]);
  assert.equal(set.code, 0, set.stderr);
});
after(() => tmp.remove());

function doctorCaKey(env: NodeJS.ProcessEnv = {}): string {
  const doctor = cli(['doctor', '--data', data, '--json'], { env });
  const checks = JSON.parse(doctor.stdout) as Array<{ check: string; message: string }>;
  return checks.find((c) => c.check === 'ca-key')?.message ?? '';
}

test('unencrypted by default; doctor says so and how to encrypt', () => {
  assert.match(readFileSync(caKey, 'utf8'), /-----BEGIN PRIVATE KEY-----/);
  assert.match(doctorCaKey(), /stored unencrypted .*certmaster ca encrypt-key --data/);
});

test('a short passphrase is refused and the key left as it was', () => {
  const shortFile = join(tmp.path, 'short');
  writeFileSync(shortFile, 'short\n');
  const before = readFileSync(caKey, 'utf8');
  const r = cli(['ca', 'encrypt-key', '--data', data, '--passphrase-file', shortFile]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /shorter than 12 characters; .*nothing was changed/);
  assert.equal(readFileSync(caKey, 'utf8'), before);
});

test('encrypt-key: PBES2 PKCS#8 that openssl opens with the passphrase, mode 0600', () => {
  const r = cli(['ca', 'encrypt-key', '--data', data, '--passphrase-file', passFile]);
  assert.equal(r.code, 0, r.stderr);
  const pem = readFileSync(caKey, 'utf8');
  assert.match(pem, /-----BEGIN ENCRYPTED PRIVATE KEY-----/);
  assert.equal(statSync(caKey).mode & 0o777, 0o600);
  const parsed = openssl(['asn1parse', '-in', caKey]);
  assert.match(parsed.stdout, /PBES2/);
  assert.match(parsed.stdout, /hmacWithSHA256/);
  assert.match(parsed.stdout, /aes-256-cbc/);
  assert.equal(openssl(['pkey', '-in', caKey, '-passin', `file:${passFile}`, '-noout']).code, 0);
  assert.notEqual(openssl(['pkey', '-in', caKey, '-passin', `file:${wrongFile}`, '-noout']).code, 0);
  assert.match(doctorCaKey(), /encrypted with a passphrase/);
});

test('serve without the passphrase, or with a wrong one, fails closed and names the three ways', async () => {
  const env = { CERTMASTER_CA_PASSPHRASE: '', CERTMASTER_CA_PASSPHRASE_FILE: '' };
  const missing = await cliAsync(['serve', '--data', data, '--listen', '127.0.0.1:0'], {
    env,
    timeoutMs: 30_000,
  });
  assert.notEqual(missing.code, 0);
  assert.match(
    missing.stderr,
    /the CA key .* is encrypted; give its passphrase with --ca-passphrase-file FILE/,
  );
  assert.match(missing.stderr, /CERTMASTER_CA_PASSPHRASE_FILE=FILE or CERTMASTER_CA_PASSPHRASE/);
  const wrong = await cliAsync(
    ['serve', '--data', data, '--listen', '127.0.0.1:0', '--ca-passphrase-file', wrongFile],
    { env, timeoutMs: 30_000 },
  );
  assert.notEqual(wrong.code, 0);
  assert.match(wrong.stderr, /the passphrase given does not open the CA key/);
  const local = cli(['ca', 'list', '--data', data], { env });
  assert.notEqual(local.code, 0);
  assert.match(local.stderr, /is encrypted; give its passphrase/);
});

test('serve with the passphrase from a file, then from the environment: it signs, and never logs it', async () => {
  for (const [extra, env] of [
    [['--ca-passphrase-file', passFile], {}],
    [[], { CERTMASTER_CA_PASSPHRASE: PASSPHRASE }],
  ] as const) {
    const server = await startServer(data, ['--log-level', 'debug', ...extra], { env });
    try {
      const host = join(tmp.path, `host-${extra.length}`);
      const enrolled = await cliAsync([
        'request',
        '--server',
        server.url,
        '--cn',
        `web${extra.length}.fleet.example`,
        '--out',
        host,
        '--ca-fingerprint',
        server.fingerprint,
      ]);
      assert.equal(enrolled.code, 0, enrolled.stderr);
      const verify = openssl(['verify', '-CAfile', join(data, 'ca', 'ca.pem'), join(host, 'cert.pem')]);
      assert.equal(verify.code, 0, verify.stderr);
    } finally {
      await server.stop();
    }
    assert.ok(!server.output().includes(PASSPHRASE), 'the passphrase is in no log line');
    assert.ok(!server.output().includes(PASSPHRASE.slice(0, 12)), 'nor any part of it');
  }
  const local = cli(['ca', 'list', '--all', '--data', data], {
    env: { CERTMASTER_CA_PASSPHRASE_FILE: passFile },
  });
  assert.equal(local.code, 0, local.stderr);
  assert.match(local.stdout, /web2\.fleet\.example|web0\.fleet\.example/);
});

test('encrypt-key again changes the passphrase; decrypt-key stores it plain, and serve needs none', async () => {
  const newFile = join(tmp.path, 'new-passphrase');
  writeFileSync(newFile, 'Second-Passphrase-For-Rotation\n');
  const rotate = cli(['ca', 'encrypt-key', '--data', data, '--passphrase-file', newFile], {
    env: { CERTMASTER_CA_PASSPHRASE: PASSPHRASE },
  });
  assert.equal(rotate.code, 0, rotate.stderr);
  assert.notEqual(openssl(['pkey', '-in', caKey, '-passin', `file:${passFile}`, '-noout']).code, 0);
  assert.equal(openssl(['pkey', '-in', caKey, '-passin', `file:${newFile}`, '-noout']).code, 0);
  const decrypt = cli(['ca', 'decrypt-key', '--data', data], {
    env: { CERTMASTER_CA_PASSPHRASE_FILE: newFile },
  });
  assert.equal(decrypt.code, 0, decrypt.stderr);
  assert.match(readFileSync(caKey, 'utf8'), /-----BEGIN PRIVATE KEY-----/);
  const server = await startServer(data, [], { env: { CERTMASTER_CA_PASSPHRASE: '' } });
  assert.match(server.url, /^https:/);
  await server.stop();
});
