/**
 * The whole enrollment story over real HTTPS on 127.0.0.1, driven through the real bin, checked by
 * the real openssl: init, serve, autosign, pending then `ca sign`, reject, revoke, clean, re-enroll.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, cliAsync, type RunningServer, startServer, tempDir } from '../helpers/cli.js';
import { call, postCsr } from '../helpers/http.js';
import { openssl, opensslCsr } from '../helpers/openssl.js';

const tmp = tempDir('e2e');
const data = join(tmp.path, 'data');
let server: RunningServer;
let caPem: string;

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function hashTree(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      h.update(`${p}:${st.mode}:${st.size}`);
      if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

function verifyWithOpenssl(outDir: string): string {
  const verify = openssl(['verify', '-CAfile', join(outDir, 'ca.pem'), join(outDir, 'cert.pem')]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /cert\.pem: OK/);
  // chain.pem is leaf then CA: the CA in it must be the one we pinned.
  const chain = readFileSync(join(outDir, 'chain.pem'), 'utf8');
  assert.ok(chain.startsWith(readFileSync(join(outDir, 'cert.pem'), 'utf8')));
  assert.ok(chain.includes(readFileSync(join(outDir, 'ca.pem'), 'utf8').trim()));
  const text = openssl(['x509', '-in', join(outDir, 'cert.pem'), '-noout', '-text']);
  assert.equal(text.code, 0);
  return text.stdout;
}

before(async () => {
  const init = cli(['init', '--data', data, '--san', 'ca.test.example']);
  assert.equal(init.code, 0, init.stderr);
  assert.match(init.stdout, /CA SHA-256 fingerprint: [0-9A-F:]{95}/);
  const set = cli(['config', 'set', 'ra.autosign', '*.auto.example.com', '--data', data]);
  assert.equal(set.code, 0, set.stderr);
  assert.equal(cli(['config', 'set', 'ra.pending_retry_after_seconds', '1', '--data', data]).code, 0);
  server = await startServer(data);
  caPem = readFileSync(join(data, 'ca', 'ca.pem'), 'utf8');
});

after(async () => {
  if (server) assert.equal(await server.stop('SIGTERM'), 0, 'serve exits 0 on SIGTERM');
  tmp.remove();
});

describe('init', () => {
  test('keys are 0600 in 0700 directories and the server certificate names this host', () => {
    assert.equal(mode(data), 0o700);
    assert.equal(mode(join(data, 'ca')), 0o700);
    assert.equal(mode(join(data, 'ca', 'ca.key')), 0o600);
    assert.equal(mode(join(data, 'server', 'server.key')), 0o600);
    const text = openssl(['x509', '-in', join(data, 'server', 'server.pem'), '-noout', '-text']).stdout;
    for (const name of [
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:0:0:0:0:0:0:0:1',
      'DNS:ca.test.example',
    ]) {
      assert.ok(text.includes(name), `server certificate lacks ${name}`);
    }
    const verify = openssl([
      'verify',
      '-CAfile',
      join(data, 'ca', 'ca.pem'),
      join(data, 'server', 'server.pem'),
    ]);
    assert.equal(verify.code, 0, verify.stderr);
  });

  test('init on an initialised directory refuses and changes nothing', () => {
    const before = hashTree(join(data, 'ca'));
    const again = cli(['init', '--data', data]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already initialised/);
    assert.equal(again.stderr.trim().split('\n').length, 1, 'one clear line on stderr');
    assert.equal(hashTree(join(data, 'ca')), before);
  });

  test('serve prints the fingerprint that /ca.pem really has', async () => {
    const reply = await call(`${server.url}/ca.pem`, { ca: caPem });
    assert.equal(reply.status, 200);
    const fp = openssl(['x509', '-noout', '-fingerprint', '-sha256'], reply.text).stdout;
    assert.ok(fp.includes(server.fingerprint), `${fp} vs ${server.fingerprint}`);
    const v1 = await call(`${server.url}/v1/ca`, { ca: caPem });
    assert.equal(v1.json.certificate, reply.text);
  });
});

describe('enrollment', () => {
  test('autosign: request issues at once, openssl verifies the chain and sees names, usages, validity', async () => {
    const out = join(tmp.path, 'web1');
    const r = await cliAsync([
      'request',
      '--server',
      server.url,
      '--cn',
      'web1.auto.example.com',
      '--san',
      'www1.auto.example.com',
      '--out',
      out,
      '--ca-fingerprint',
      server.fingerprint,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(mode(join(out, 'key.pem')), 0o600);
    const text = verifyWithOpenssl(out);
    assert.match(text, /DNS:web1\.auto\.example\.com/);
    assert.match(text, /DNS:www1\.auto\.example\.com/);
    assert.match(text, /Subject: CN\s?=\s?web1\.auto\.example\.com/);
    assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
    assert.match(text, /Digital Signature/);
    assert.match(text, /CA:FALSE/);
    const end = openssl(['x509', '-in', join(out, 'cert.pem'), '-noout', '-enddate']).stdout;
    const days = (Date.parse(end.replace('notAfter=', '').trim()) - Date.now()) / 86_400_000;
    assert.ok(days > 89 && days <= 90, `validity ${days} days`);
  });

  test('a wrong --ca-fingerprint is refused loudly and nothing is sent or written', async () => {
    const out = join(tmp.path, 'mitm');
    const wrong = '00'.repeat(32);
    const r = await cliAsync([
      'request',
      '--server',
      server.url,
      '--cn',
      'mitm.auto.example.com',
      '--out',
      out,
      '--ca-fingerprint',
      wrong,
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /CA FINGERPRINT MISMATCH/);
    assert.deepEqual(readdirSync(out), []);
    const list = cli(['ca', 'list', '--all', '--json', '--data', data]);
    assert.ok(!list.stdout.includes('mitm.auto.example.com'));
  });

  test('pending: the client waits with progress until an operator runs `ca sign`', async () => {
    const out = join(tmp.path, 'db1');
    const waiting = cliAsync([
      'request',
      '--server',
      server.url,
      '--cn',
      'db1.manual.example.com',
      '--out',
      out,
      '--wait',
      '60',
      '--ca-fingerprint',
      server.fingerprint,
    ]);
    let pending: Array<{ id: string; common_name: string }> = [];
    for (let i = 0; i < 100 && pending.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      pending = JSON.parse(cli(['ca', 'list', '--pending', '--json', '--data', data]).stdout);
    }
    assert.equal(pending.length, 1);
    assert.equal(pending[0]?.common_name, 'db1.manual.example.com');
    const sign = cli(['ca', 'sign', 'db1.manual.example.com', '--data', data]);
    assert.equal(sign.code, 0, sign.stderr);
    assert.match(sign.stdout, /Signed db1\.manual\.example\.com: serial [0-9a-f]+/);
    const r = await waiting;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Waiting for an operator to sign db1\.manual\.example\.com/);
    verifyWithOpenssl(out);
    const signed = JSON.parse(cli(['ca', 'list', '--signed', '--json', '--data', data]).stdout) as Array<{
      common_name: string;
    }>;
    assert.ok(signed.some((c) => c.common_name === 'db1.manual.example.com'));
  });

  test('--wait 0 leaves a pending request with exit 3, and running again resumes the same request', async () => {
    const out = join(tmp.path, 'db2');
    const args = [
      'request',
      '--server',
      server.url,
      '--cn',
      'db2.manual.example.com',
      '--out',
      out,
      '--wait',
      '0',
      '--ca-fingerprint',
      server.fingerprint,
    ];
    const first = await cliAsync(args);
    assert.equal(first.code, 3, first.stderr);
    assert.match(first.stderr, /still waiting for an operator/);
    const second = await cliAsync(args);
    assert.equal(second.code, 3);
    const pending = JSON.parse(cli(['ca', 'list', '--pending', '--json', '--data', data]).stdout) as Array<{
      id: string;
      common_name: string;
    }>;
    const mine = pending.filter((p) => p.common_name === 'db2.manual.example.com');
    assert.equal(mine.length, 1, 'the resubmitted CSR returned the existing request');
    assert.equal(cli(['ca', 'sign', mine[0]?.id ?? '', '--data', data]).code, 0);
    const third = await cliAsync(args);
    assert.equal(third.code, 0, third.stderr);
    verifyWithOpenssl(out);
  });

  test('reject: the host is told who rejected it and why', async () => {
    const out = join(tmp.path, 'evil');
    const waiting = cliAsync([
      'request',
      '--server',
      server.url,
      '--cn',
      'evil.manual.example.com',
      '--out',
      out,
      '--wait',
      '60',
      '--ca-fingerprint',
      server.fingerprint,
    ]);
    let id = '';
    for (let i = 0; i < 100 && !id; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const pending = JSON.parse(cli(['ca', 'list', '--json', '--data', data]).stdout) as Array<{
        id: string;
        common_name: string;
      }>;
      id = pending.find((p) => p.common_name === 'evil.manual.example.com')?.id ?? '';
    }
    const reject = cli(['ca', 'reject', id, '--reason', 'not one of ours', '--data', data]);
    assert.equal(reject.code, 0, reject.stderr);
    const r = await waiting;
    assert.equal(r.code, 1);
    assert.match(r.stderr, /rejected by local operator: not one of ours/);
    assert.equal(cli(['ca', 'sign', id, '--data', data]).code, 1, 'a rejected request cannot be signed');
  });

  test('revoke, then clean and re-enroll with a new key', async () => {
    const out = join(tmp.path, 'web2');
    const args = [
      'request',
      '--server',
      server.url,
      '--cn',
      'web2.auto.example.com',
      '--out',
      out,
      '--ca-fingerprint',
      server.fingerprint,
    ];
    assert.equal((await cliAsync(args)).code, 0);
    const serial = openssl(['x509', '-in', join(out, 'cert.pem'), '-noout', '-serial'])
      .stdout.trim()
      .replace('serial=', '')
      .toLowerCase();

    // A second key for the same name is a conflict while the first certificate is valid.
    const other = opensslCsr(tmp.path, 'web2b', '/CN=web2.auto.example.com');
    const conflict = await postCsr(server.url, caPem, other.csrPem);
    assert.equal(conflict.status, 409);
    assert.equal(conflict.json.reason, 'request_conflict');
    // An anonymous caller learns only that the name is taken (issue 7): no serial, no expiry, no
    // `ca clean` and no renewal (none exists); the operator reads both keys with explain.
    assert.equal(
      conflict.json.detail,
      'web2.auto.example.com already holds a valid certificate for another key',
    );
    assert.doesNotMatch(conflict.text, new RegExp(`${serial}|ca clean|renew|\\d{4}-\\d\\d-\\d\\dT`, 'i'));

    const revoke = cli(['ca', 'revoke', serial, '--reason', 'keyCompromise', '--data', data]);
    assert.equal(revoke.code, 0, revoke.stderr);
    const revoked = JSON.parse(cli(['ca', 'list', '--revoked', '--json', '--data', data]).stdout) as Array<{
      serial: string;
      revocation_reason: string;
    }>;
    assert.deepEqual(
      revoked.filter((c) => c.serial === serial).map((c) => c.revocation_reason),
      ['keyCompromise'],
    );
    const bad = cli(['ca', 'revoke', serial, '--reason', 'bored', '--data', data]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /not a revocation reason/);

    const clean = cli(['ca', 'clean', 'web2.auto.example.com', '--data', data]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /removed 1 request/);
    const fresh = join(tmp.path, 'web2-again');
    const again = await cliAsync([
      'request',
      '--server',
      server.url,
      '--cn',
      'web2.auto.example.com',
      '--out',
      fresh,
      '--ca-fingerprint',
      server.fingerprint,
    ]);
    assert.equal(again.code, 0, again.stderr);
    verifyWithOpenssl(fresh);
    assert.notEqual(readFileSync(join(fresh, 'key.pem'), 'utf8'), readFileSync(join(out, 'key.pem'), 'utf8'));
  });

  test('the CA pinned on first contact is enforced on the next run', async () => {
    const out = join(tmp.path, 'tofu');
    const first = await cliAsync([
      'request',
      '--server',
      server.url,
      '--cn',
      'tofu.auto.example.com',
      '--out',
      out,
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /trusting the CA on first use/);
    assert.ok(first.stderr.includes(server.fingerprint));
    // Another CA's server at the same address must be refused by the pin.
    const otherData = join(tmp.path, 'other');
    const other = await startServer(otherData);
    try {
      const r = await cliAsync([
        'request',
        '--server',
        other.url,
        '--cn',
        'tofu.auto.example.com',
        '--out',
        out,
      ]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /CA MISMATCH/);
    } finally {
      await other.stop();
    }
  });
});

describe('config', () => {
  test('a bad value is refused with key, value and what is allowed, and the file is unchanged', () => {
    const path = join(data, 'certmaster.toml');
    const before = readFileSync(path, 'utf8');
    const r = cli(['config', 'set', 'ra.autosign', '*.*.example.com', '--data', data]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /ra\.autosign/);
    assert.match(r.stderr, /\*\.\*\.example\.com/);
    assert.equal(readFileSync(path, 'utf8'), before);
    const get = cli(['config', 'get', 'ra.autosign', '--data', data]);
    assert.equal(get.stdout.trim(), '*.auto.example.com');
  });
});
