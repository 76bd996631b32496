/**
 * Real ACME clients from Debian against certmaster: certbot (`certonly --standalone`) and lego
 * (http-01 and, through its `exec` DNS provider writing into the test DNS server, dns-01), each
 * obtaining, renewing and revoking a certificate that `openssl verify` accepts. The server's
 * acme.http01_port points at the port the client listens on; acme.resolver at the test DNS server.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/cli.js';
import { startTestDns, type TestDns } from '../helpers/dns-server.js';
import { freePort, run } from '../helpers/external.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { openssl, writeTemp } from '../helpers/openssl.js';

const tmp = tempDir('acme-real');
const txtDir = join(tmp.path, 'txt');
let port: number;
let dns: TestDns;
let server: TestServer;
let caFile: string;

before(async () => {
  mkdirSync(txtDir);
  port = await freePort();
  dns = await startTestDns({ txtDir });
  server = await startTestServer({
    'ra.autosign': '*.acme.test',
    'acme.http01_port': String(port),
    'acme.resolver': dns.address,
  });
  caFile = writeTemp(tmp.path, 'ca.pem', server.caPem);
});

after(async () => {
  await server.close();
  await dns.close();
  tmp.remove();
});

function serialOf(certFile: string): string {
  const r = openssl(['x509', '-in', certFile, '-noout', '-serial']);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout
    .replace('serial=', '')
    .trim()
    .toLowerCase()
    .replace(/^(00)+(?=.)/, '');
}

function assertVerifies(certFile: string): void {
  const r = openssl(['verify', '-CAfile', caFile, certFile]);
  assert.equal(r.code, 0, `${r.stdout}${r.stderr}`);
}

async function assertRevoked(serial: string): Promise<void> {
  const stored = await server.instance.store.getCertificate(serial);
  assert.ok(stored, `certificate ${serial} is in the store`);
  assert.notEqual(stored.revokedAt, null, `certificate ${serial} is revoked`);
}

describe('certbot', () => {
  const dir = join(tmp.path, 'certbot');
  const common = () => [
    '--server',
    `${server.url}/acme/directory`,
    '--config-dir',
    join(dir, 'config'),
    '--work-dir',
    join(dir, 'work'),
    '--logs-dir',
    join(dir, 'logs'),
    '--non-interactive',
  ];
  const env = () => ({ REQUESTS_CA_BUNDLE: caFile });
  const certFile = () => join(dir, 'config', 'live', 'www.acme.test', 'cert.pem');
  const failure = (r: { stdout: string; stderr: string }) => {
    let log = '';
    try {
      log = readFileSync(join(dir, 'logs', 'letsencrypt.log'), 'utf8').slice(-4000);
    } catch {
      // No log yet.
    }
    return `${r.stdout}${r.stderr}\n${log}`;
  };

  it('obtains (certonly --standalone), renews and revokes a certificate', async () => {
    const obtained = await run(
      'certbot',
      [
        'certonly',
        '--standalone',
        '--http-01-port',
        String(port),
        '--http-01-address',
        '127.0.0.1',
        '--register-unsafely-without-email',
        '--agree-tos',
        '-d',
        'www.acme.test',
        ...common(),
      ],
      { env: env() },
    );
    assert.equal(obtained.code, 0, failure(obtained));
    assertVerifies(certFile());
    const first = serialOf(certFile());

    const renewed = await run(
      'certbot',
      ['renew', '--force-renewal', '--no-random-sleep-on-renew', ...common()],
      { env: env() },
    );
    assert.equal(renewed.code, 0, failure(renewed));
    assertVerifies(certFile());
    const second = serialOf(certFile());
    assert.notEqual(second, first, 'renewal gave a new certificate');

    const revoked = await run(
      'certbot',
      [
        'revoke',
        '--cert-path',
        certFile(),
        '--reason',
        'superseded',
        '--no-delete-after-revoke',
        ...common(),
      ],
      { env: env() },
    );
    assert.equal(revoked.code, 0, failure(revoked));
    await assertRevoked(second);
  });
});

describe('lego', () => {
  const env = () => ({ LEGO_CA_CERTIFICATES: caFile });
  const common = (path: string, name: string) => [
    '--server',
    `${server.url}/acme/directory`,
    '--accept-tos',
    '--email',
    'ops@acme.test',
    '--path',
    path,
    '--domains',
    name,
  ];

  async function obtainRenewRevoke(name: string, solver: string[], extraEnv: Record<string, string> = {}) {
    const path = join(tmp.path, `lego-${name}`);
    const certFile = join(path, 'certificates', `${name}.crt`);
    const opts = { env: { ...env(), ...extraEnv } };
    const obtained = await run('lego', [...common(path, name), ...solver, 'run'], opts);
    assert.equal(obtained.code, 0, `${obtained.stdout}${obtained.stderr}`);
    assertVerifies(certFile);
    const first = serialOf(certFile);

    // --days beyond the certificate's lifetime: renew now.
    const renewed = await run(
      'lego',
      [...common(path, name), ...solver, 'renew', '--days', '100000', '--no-random-sleep'],
      opts,
    );
    assert.equal(renewed.code, 0, `${renewed.stdout}${renewed.stderr}`);
    assertVerifies(certFile);
    const second = serialOf(certFile);
    assert.notEqual(second, first, 'renewal gave a new certificate');

    const revoked = await run('lego', [...common(path, name), ...solver, 'revoke', '--keep'], opts);
    assert.equal(revoked.code, 0, `${revoked.stdout}${revoked.stderr}`);
    await assertRevoked(second);
  }

  it('obtains, renews and revokes over http-01 (--http --http.port)', async () => {
    await obtainRenewRevoke('lego.acme.test', ['--http', '--http.port', `127.0.0.1:${port}`]);
  });

  it('obtains, renews and revokes over dns-01 (--dns exec writing into the test DNS server)', async () => {
    // lego's exec provider runs `SCRIPT present|cleanup FQDN VALUE`; the test DNS serves the files.
    const script = writeTemp(
      tmp.path,
      'dns-exec.sh',
      `#!/bin/sh\ncase "$1" in\n  present) printf '%s\\n' "$3" > "${txtDir}/$2" ;;\n  cleanup) rm -f "${txtDir}/$2" ;;\nesac\n`,
    );
    chmodSync(script, 0o755);
    await obtainRenewRevoke(
      'lego-dns.acme.test',
      ['--dns', 'exec', '--dns.resolvers', dns.address, '--dns.disable-cp'],
      { EXEC_PATH: script },
    );
  });
});
