/**
 * The CLI against a remote server, as an operator and a fleet use it: login/whoami/logout, the
 * operator commands over --server, enrollment and API tokens, anonymous requests switched off, and
 * the SDK's single-flight refresh (in process, with a movable clock instead of sleeping).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ApiClient } from '../../src/client/api.js';
import { loadSession, saveSession } from '../../src/client/credentials.js';
import { type CliResult, cli, cliAsync, type RunningServer, startServer, tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';
import { call } from '../helpers/http.js';
import { startTestServer } from '../helpers/instance.js';
import { openssl, opensslCsr } from '../helpers/openssl.js';

const tmp = tempDir('remote');
const data = join(tmp.path, 'data');
const caFile = join(data, 'ca', 'ca.pem');
const configDir = join(tmp.path, 'config');
const env = { CERTMASTER_CONFIG_DIR: configDir };
const ADMIN_PASSWORD = 'Granite-Orchard-Beacon-58';
let adminPasswordFile: string;
let server: RunningServer;
let caPem: string;

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function run(args: string[]): Promise<CliResult> {
  return cliAsync(args, { env });
}

/** The CLI contract for failures: non-zero exit and exactly one line on stderr. */
function assertOneLineFailure(r: CliResult, pattern: RegExp): void {
  assert.notEqual(r.code, 0, `expected a failure: ${r.stdout}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got: ${r.stderr}`);
  assert.match(lines[0] ?? '', /^certmaster: /);
  assert.match(lines[0] ?? '', pattern);
}

function credentialsFile(): {
  version: number;
  servers: Record<string, { accessToken: string; refreshToken: string | null; user: string }>;
} {
  return JSON.parse(readFileSync(join(configDir, 'credentials.json'), 'utf8'));
}

function hostRequest(cn: string, out: string, extra: string[] = []): Promise<CliResult> {
  return run([
    'request',
    '--server',
    server.url,
    '--cn',
    cn,
    '--out',
    join(tmp.path, out),
    '--ca-fingerprint',
    server.fingerprint,
    ...extra,
  ]);
}

function verifyIssued(out: string): string {
  const dir = join(tmp.path, out);
  const verify = openssl([
    'verify',
    '-CAfile',
    join(dir, 'ca.pem'),
    '-untrusted',
    join(dir, 'chain.pem'),
    join(dir, 'cert.pem'),
  ]);
  assert.equal(verify.code, 0, verify.stderr);
  assert.match(verify.stdout, /cert\.pem: OK/);
  return openssl(['x509', '-in', join(dir, 'cert.pem'), '-noout', '-serial'])
    .stdout.trim()
    .replace('serial=', '')
    .toLowerCase();
}

/** POST /v1/requests with a CSR made by openssl, optionally with a bearer token. */
async function submit(cn: string, token?: string) {
  const { csrPem } = opensslCsr(tmp.path, `direct-${cn}`, `/CN=${cn}`);
  return call(`${server.url}/v1/requests`, {
    method: 'POST',
    ca: caPem,
    body: JSON.stringify({ csr: csrPem }),
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
  });
}

/** Sends SIGHUP and waits (polling, bounded) until anonymous submission is as wanted. */
async function setAnonymousRequests(allowed: boolean): Promise<void> {
  const set = cli(['config', 'set', 'ra.anonymous_requests', String(allowed), '--data', data]);
  assert.equal(set.code, 0, set.stderr);
  server.process.kill('SIGHUP');
  for (let i = 0; i < 100; i++) {
    // An unparsable CSR: 400 when anonymous requests are accepted, 401 before parsing when not.
    const probe = await call(`${server.url}/v1/requests`, {
      method: 'POST',
      ca: caPem,
      body: JSON.stringify({ csr: 'not a csr' }),
      headers: { 'content-type': 'application/json' },
    });
    if ((probe.status === 401) === !allowed) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`the server did not reload ra.anonymous_requests=${allowed}`);
}

before(async () => {
  adminPasswordFile = join(tmp.path, 'admin.pw');
  writeFileSync(adminPasswordFile, `${ADMIN_PASSWORD}\n`, { mode: 0o600 });
  const init = cli(['init', '--data', data, '--admin-password-file', adminPasswordFile]);
  assert.equal(init.code, 0, init.stderr);
  assert.equal(cli(['config', 'set', 'ra.pending_retry_after_seconds', '1', '--data', data]).code, 0);
  server = await startServer(data);
  caPem = readFileSync(caFile, 'utf8');
});

after(async () => {
  if (server) assert.equal(await server.stop('SIGTERM'), 0);
  tmp.remove();
});

describe('login and whoami', () => {
  test('a wrong --ca-fingerprint is refused before the password is sent', async () => {
    const r = await run([
      'login',
      '--server',
      server.url,
      '--user',
      'admin',
      '--password-file',
      adminPasswordFile,
      '--ca-fingerprint',
      'AB'.repeat(32),
    ]);
    assertOneLineFailure(r, /CA FINGERPRINT MISMATCH/);
  });

  test('a wrong password is one clear line and saves nothing', async () => {
    const wrong = join(tmp.path, 'wrong.pw');
    writeFileSync(wrong, 'Not-The-Admin-Passphrase\n', { mode: 0o600 });
    const r = await run([
      'login',
      '--server',
      server.url,
      '--user',
      'admin',
      '--password-file',
      wrong,
      '--ca-fingerprint',
      server.fingerprint,
    ]);
    assertOneLineFailure(r, /login refused: the user name or password is not correct/);
    assert.match(r.stderr, /request id /);
    assert.ok(!existsSync(join(configDir, 'credentials.json')), 'nothing was saved');
  });

  test('login saves tokens 0600 in a 0700 directory, never the password', async () => {
    const r = await run([
      'login',
      '--server',
      server.url,
      '--user',
      'admin',
      '--password-file',
      adminPasswordFile,
      '--ca-fingerprint',
      server.fingerprint,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'a pinned fingerprint needs no trust-on-first-use warning');
    assert.match(r.stdout, new RegExp(`^Logged in to ${server.url} as admin \\(scopes: [a-z: ]+\\)`));
    assert.equal(mode(configDir), 0o700);
    const file = join(configDir, 'credentials.json');
    assert.equal(mode(file), 0o600);
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(ADMIN_PASSWORD), 'the password is never stored');
    const session = credentialsFile().servers[server.url];
    assert.ok(session);
    assert.equal(session.user, 'admin');
    assert.match(session.accessToken, /^eyJ/);
    assert.match(session.refreshToken ?? '', /^cmrt_/);
  });

  test('whoami --json shows the account, roles, scopes and token expiry', async () => {
    const r = await run(['whoami', '--server', server.url, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const me = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(me.name, 'admin');
    assert.equal(me.method, 'access_token');
    assert.deepEqual(me.roles, ['admin']);
    for (const scope of ['requests:approve', 'certificates:revoke', 'hosts:clean', 'tokens:manage'])
      assert.ok((me.scopes as string[]).includes(scope), scope);
    assert.equal(typeof me.token_id, 'string');
    const left = Date.parse(String(me.token_expires_at)) - Date.now();
    assert.ok(left > 800_000 && left <= 900_000, `token expires in ${left} ms`);
    const human = await run(['whoami', '--server', server.url]);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^admin \(admin\) via access_token\n/);
    assert.match(human.stdout, /token \S+ expires \S+ \(in \d+ (seconds|minutes)\)/);
  });
});

describe('remote operator', () => {
  test('a pending host is signed remotely, then revoked and cleaned remotely', async () => {
    const cn = 'db1.remote.example.com';
    const waiting = hostRequest(cn, 'db1', ['--wait', '60']);
    let pending: Array<{ id: string; common_name: string }> = [];
    for (let i = 0; i < 100 && !pending.some((p) => p.common_name === cn); i++) {
      await new Promise((r) => setTimeout(r, 100));
      const list = await run(['ca', 'list', '--server', server.url, '--json']);
      assert.equal(list.code, 0, list.stderr);
      pending = JSON.parse(list.stdout);
    }
    assert.deepEqual(
      pending.map((p) => p.common_name),
      [cn],
    );
    const sign = await run(['ca', 'sign', cn, '--server', server.url]);
    assert.equal(sign.code, 0, sign.stderr);
    assert.match(
      sign.stdout,
      new RegExp(`^Signed ${cn.replaceAll('.', '\\.')}: serial [0-9a-f]+, valid until `),
    );
    const host = await waiting;
    assert.equal(host.code, 0, host.stderr);
    const serial = verifyIssued('db1');
    assert.ok(sign.stdout.includes(serial), 'ca sign printed the serial the host got');

    const all = JSON.parse((await run(['ca', 'list', '--all', '--server', server.url, '--json'])).stdout) as {
      requests: Array<{ common_name: string; decided_by: string | null; state: string }>;
    };
    const decided = all.requests.find((r) => r.common_name === cn);
    assert.equal(decided?.state, 'issued');
    assert.equal(decided?.decided_by, 'admin', 'the remote operator is recorded by name');

    const badReason = await run(['ca', 'revoke', serial, '--reason', 'bored', '--server', server.url]);
    assertOneLineFailure(badReason, /reason/);

    const revoke = await run(['ca', 'revoke', serial, '--reason', 'keyCompromise', '--server', server.url]);
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match(
      revoke.stdout,
      new RegExp(`^Revoked ${serial} \\(${cn.replaceAll('.', '\\.')}\\), reason keyCompromise`),
    );

    const clean = await run(['ca', 'clean', cn, '--server', server.url]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /removed 1 request\(s\)/);

    const revoked = await run(['ca', 'list', '--revoked', '--server', server.url, '--json']);
    assert.equal(revoked.code, 0, revoked.stderr);
    const certs = JSON.parse(revoked.stdout) as Array<{ serial: string; revocation_reason: string }>;
    assert.deepEqual(
      certs.filter((c) => c.serial === serial).map((c) => c.revocation_reason),
      ['keyCompromise'],
    );
    const after = JSON.parse(
      (await run(['ca', 'list', '--all', '--server', server.url, '--json'])).stdout,
    ) as {
      requests: Array<{ common_name: string }>;
    };
    assert.ok(!after.requests.some((r) => r.common_name === cn), 'clean removed the request');
  });

  test('signing a name nobody asked for is one clear line', async () => {
    const r = await run(['ca', 'sign', 'nobody.remote.example.com', '--server', server.url]);
    assertOneLineFailure(r, /nobody\.remote\.example\.com/);
  });
});

describe('enrollment tokens', () => {
  let token = '';

  test('token create --enroll over --server prints a cmet_ token once', async () => {
    const r = await run([
      'token',
      'create',
      '--enroll',
      'web-*.example.com',
      '--uses',
      '1',
      '--ttl',
      '1h',
      '--server',
      server.url,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^cmet_\S+\n$/);
    assert.match(r.stderr, /enrollment for web-\*\.example\.com, expires /);
    token = r.stdout.trim();
  });

  test('the token gets web-7 issued at once although autosign is off', async () => {
    assert.equal(cli(['config', 'get', 'ra.autosign', '--data', data]).stdout.trim(), 'off');
    const r = await hostRequest('web-7.example.com', 'web7', ['--token', token, '--wait', '0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Issued web-7\.example\.com/);
    verifyIssued('web7');
  });

  test('a second use of a one-use token is refused: no uses left', async () => {
    const r = await hostRequest('web-8.example.com', 'web8', ['--token', token, '--wait', '0']);
    assertOneLineFailure(r, /the server refused: (the|this) enrollment token has no uses left/);
    assert.match(r.stderr, /certmaster token create/);
    // A used-up token no longer authenticates (RFC 6750 §3.1 invalid_token), under its own reason.
    const direct = await submit('web-9.example.com', token);
    assert.equal(direct.status, 401, direct.text);
    assert.equal(direct.json.reason, 'enrollment_token_used_up');
    assert.equal(direct.json.detail, 'the enrollment token has no uses left');
    assert.match(
      String(direct.headers['www-authenticate']),
      /Bearer realm="certmaster", error="invalid_token"/,
    );
  });

  test('a web-* token asking for db-1 is refused: name_not_allowed', async () => {
    const created = await run([
      'token',
      'create',
      '--enroll',
      'web-*.example.com',
      '--uses',
      '5',
      '--server',
      server.url,
      '--json',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const many = (JSON.parse(created.stdout) as { token: string }).token;
    const r = await hostRequest('db-1.example.com', 'db-1', ['--token', many, '--wait', '0']);
    assertOneLineFailure(r, /may obtain certificates only for web-\*\.example\.com/);
    assert.match(r.stderr, /db-1\.example\.com/);
    const direct = await submit('db-2.example.com', many);
    assert.equal(direct.status, 403, direct.text);
    assert.equal(direct.json.reason, 'name_not_allowed');
  });
});

describe('API tokens', () => {
  test('a requests:read token lists remotely but cannot sign: insufficient_scope in one line', async () => {
    const created = cli(['token', 'create', '--scope', 'requests:read', '--data', data, '--owner', 'admin']);
    assert.equal(created.code, 0, created.stderr);
    const token = created.stdout.trim();
    assert.match(token, /^cmat_\S+$/);
    const common = ['--server', server.url, '--token', token, '--ca-file', caFile];
    const list = await run(['ca', 'list', ...common, '--json']);
    assert.equal(list.code, 0, list.stderr);
    assert.ok(Array.isArray(JSON.parse(list.stdout)));
    const me = await run(['whoami', ...common, '--json']);
    assert.equal(me.code, 0, me.stderr);
    assert.deepEqual(
      { method: JSON.parse(me.stdout).method, scopes: JSON.parse(me.stdout).scopes },
      { method: 'api_token', scopes: ['requests:read'] },
    );
    const sign = await run(['ca', 'sign', 'anything.example.com', ...common]);
    assertOneLineFailure(sign, /requests:approve/);
    assert.match(sign.stderr, /scope/);
    // The same refusal on the wire carries the reason code and the scope.
    const wire = await call(`${server.url}/v1/requests/anything.example.com/approve`, {
      method: 'POST',
      ca: caPem,
      body: '{}',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    });
    assert.equal(wire.status, 403);
    assert.equal(wire.json.reason, 'insufficient_scope');
    assert.equal(wire.json.scope, 'requests:approve');
  });
});

describe('ra.anonymous_requests = false', () => {
  after(() => setAnonymousRequests(true));

  test('anonymous request fails with one clear line; an enrollment token still works', async () => {
    await setAnonymousRequests(false);
    const anonymous = await hostRequest('web-20.example.com', 'anon', ['--wait', '0']);
    assertOneLineFailure(anonymous, /does not accept anonymous certificate requests/);
    assert.match(anonymous.stderr, /--token/);

    const created = await run(['token', 'create', '--enroll', 'web-21.example.com', '--server', server.url]);
    assert.equal(created.code, 0, created.stderr);
    const withToken = await hostRequest('web-21.example.com', 'web21', [
      '--token',
      created.stdout.trim(),
      '--wait',
      '0',
    ]);
    assert.equal(withToken.code, 0, withToken.stderr);
    verifyIssued('web21');
  });
});

describe('logout', () => {
  test('logout revokes the saved tokens on the server and forgets them', async () => {
    const saved = credentialsFile().servers[server.url];
    assert.ok(saved, 'logged in');
    const before = await call(`${server.url}/v1/whoami`, {
      ca: caPem,
      headers: { authorization: `Bearer ${saved.accessToken}` },
    });
    assert.equal(before.status, 200);

    const r = await run(['logout', '--server', server.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `Logged out of ${server.url}.\n`);
    assert.equal(credentialsFile().servers[server.url], undefined);

    const access = await call(`${server.url}/v1/whoami`, {
      ca: caPem,
      headers: { authorization: `Bearer ${saved.accessToken}` },
    });
    assert.equal(access.status, 401, access.text);
    assert.equal(access.json.reason, 'token_revoked');
    const refresh = await call(`${server.url}/oauth/token`, {
      method: 'POST',
      ca: caPem,
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: saved.refreshToken ?? '',
        client_id: 'certmaster-cli',
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(refresh.status, 400, refresh.text);
    assert.equal(refresh.json.error, 'invalid_grant');

    const whoami = await run(['whoami', '--server', server.url]);
    assertOneLineFailure(whoami, /certmaster login --server/);
  });
});

describe('SDK refresh (in process, movable clock)', () => {
  const sdkConfig = tempDir('sdk-config');
  const clock = new MovableClock(Date.now());
  let ts: Awaited<ReturnType<typeof startTestServer>>;
  let rotations = 0;

  before(async () => {
    process.env.CERTMASTER_CONFIG_DIR = sdkConfig.path;
    ts = await startTestServer(
      {},
      { clock, admin: { name: 'admin', password: ADMIN_PASSWORD, digest: false } },
    );
    // Counts refresh grants by wrapping the server's real rotation; nothing is replaced.
    const refreshTokens = ts.frontDoor.refreshTokens;
    const rotate = refreshTokens.rotate.bind(refreshTokens);
    refreshTokens.rotate = (...args: Parameters<typeof rotate>) => {
      rotations += 1;
      return rotate(...args);
    };
  });

  after(async () => {
    delete process.env.CERTMASTER_CONFIG_DIR;
    await ts?.close();
    sdkConfig.remove();
  });

  async function login(): Promise<void> {
    const grant = await call(`${ts.url}/oauth/token`, {
      method: 'POST',
      ca: ts.caPem,
      body: new URLSearchParams({
        grant_type: 'password',
        username: 'admin',
        password: ADMIN_PASSWORD,
        client_id: 'certmaster-cli',
      }).toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(grant.status, 200, grant.text);
    saveSession(new URL(ts.url).origin, {
      user: 'admin',
      accessToken: String(grant.json.access_token),
      accessTokenExpiresAt: new Date(Date.now() + Number(grant.json.expires_in) * 1000).toISOString(),
      refreshToken: String(grant.json.refresh_token),
      caPem: ts.caPem,
    });
  }

  async function fiveAtOnce(api: ApiClient): Promise<void> {
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => api.call<{ name: string; method: string }>('GET', '/v1/whoami')),
    );
    for (const me of answers) assert.deepEqual(me, { ...me, name: 'admin', method: 'access_token' });
  }

  test('five concurrent calls after the server says token_expired share exactly one refresh', async () => {
    await login();
    const origin = new URL(ts.url).origin;
    const first = loadSession(origin);
    // Past the 900 s lifetime on the server's clock; the client's own clock still thinks it valid, so
    // each call learns of the expiry from its own 401, on its own fresh connection.
    clock.advance(901);
    const api = ApiClient.open(ts.url);
    try {
      await fiveAtOnce(api);
      assert.equal(rotations, 1, 'single flight: one refresh grant for five callers');
      const second = loadSession(origin);
      assert.notEqual(second?.accessToken, first?.accessToken);
      assert.notEqual(second?.refreshToken, first?.refreshToken);
      await fiveAtOnce(api);
      assert.equal(rotations, 1, 'a fresh token needs no refresh');
      // No reuse was detected: the rotated family keeps working through the next expiry.
      clock.advance(901);
      await fiveAtOnce(api);
      assert.equal(rotations, 2);
    } finally {
      api.close();
    }
  });

  test('a 401 token_expired that arrives after another call refreshed is retried, not refreshed again', async () => {
    await login();
    const origin = new URL(ts.url).origin;
    const stale = loadSession(origin)?.accessToken;
    clock.advance(901);
    // The server holds the first check of the stale token until the client has saved a refreshed
    // session, so that call's 401 surely lands after the refresh: the order a slow link produces.
    const accessTokens = ts.frontDoor.accessTokens;
    const verify = accessTokens.verify.bind(accessTokens);
    let held = false;
    accessTokens.verify = async (token: string) => {
      if (token === stale && !held) {
        held = true;
        for (let i = 0; i < 500 && loadSession(origin)?.accessToken === stale; i++)
          await new Promise((r) => setTimeout(r, 10));
      }
      return verify(token);
    };
    const before = rotations;
    const api = ApiClient.open(ts.url);
    try {
      await fiveAtOnce(api);
      assert.ok(held, 'one call was held');
      assert.equal(rotations - before, 1);
    } finally {
      api.close();
      accessTokens.verify = verify;
    }
  });

  test('five concurrent calls with a session the client itself sees expired share one refresh', async () => {
    await login();
    const origin = new URL(ts.url).origin;
    const saved = loadSession(origin);
    assert.ok(saved);
    saveSession(origin, { ...saved, accessTokenExpiresAt: new Date(Date.now() - 1000).toISOString() });
    const before = rotations;
    const api = ApiClient.open(ts.url);
    try {
      await fiveAtOnce(api);
      assert.equal(rotations - before, 1);
      const after = loadSession(origin);
      assert.ok(Date.parse(after?.accessTokenExpiresAt ?? '') > Date.now() + 800_000);
    } finally {
      api.close();
    }
  });
});
