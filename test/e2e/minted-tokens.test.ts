/**
 * Issue 8 item 5: an API token made with a sign-in (an OAuth access token) belongs to it. Through the
 * real CLI against a real `serve`: it has an expiry no later than auth.minted_token_max_days, and
 * `logout` revokes it; `token create --durable` survives logout, and needs tokens:manage (admin).
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CliResult, cli, cliAsync, type RunningServer, startServer, tempDir } from '../helpers/cli.js';
import { call } from '../helpers/http.js';

const tmp = tempDir('minted');
const data = join(tmp.path, 'data');
const configDir = join(tmp.path, 'config');
const env = { CERTMASTER_CONFIG_DIR: configDir };
const PASSWORD = 'Granite-Orchard-Beacon-58';
const MAX_DAYS = 7;
let passwordFile: string;
let server: RunningServer;
let caPem: string;

function run(args: string[]): Promise<CliResult> {
  return cliAsync(args, { env });
}

async function login(user: string): Promise<void> {
  const r = await run(['login', '--server', server.url, '--user', user, '--password-file', passwordFile]);
  assert.equal(r.code, 0, r.stderr);
}

async function logout(): Promise<void> {
  const r = await run(['logout', '--server', server.url]);
  assert.equal(r.code, 0, r.stderr);
}

async function createToken(extra: string[] = []): Promise<CliResult> {
  return run(['token', 'create', '--server', server.url, '--scope', 'certificates:read', '--json', ...extra]);
}

interface Created {
  token: string;
  record: { id: string; expires_at: string | null; family_id: string | null };
}

async function listCertificatesWith(token: string): Promise<number> {
  const r = await call(`${server.url}/v1/certificates`, {
    ca: caPem,
    headers: { authorization: `Bearer ${token}` },
  });
  return r.status;
}

before(async () => {
  passwordFile = join(tmp.path, 'pw');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  const init = cli(['init', '--data', data, '--admin-password-file', passwordFile]);
  assert.equal(init.code, 0, init.stderr);
  const op = cli([
    'user',
    'add',
    'olga',
    '--role',
    'operator',
    '--password-file',
    passwordFile,
    '--data',
    data,
  ]);
  assert.equal(op.code, 0, op.stderr);
  const set = cli(['config', 'set', 'auth.minted_token_max_days', String(MAX_DAYS), '--data', data]);
  assert.equal(set.code, 0, set.stderr);
  server = await startServer(data);
  caPem = readFileSync(join(data, 'ca', 'ca.pem'), 'utf8');
});

after(async () => {
  await server?.stop();
  tmp.remove();
});

test('a token made with a sign-in expires within auth.minted_token_max_days and dies at logout', async () => {
  await login('admin');
  const r = await createToken(['--ttl', '365d']);
  assert.equal(r.code, 0, r.stderr);
  const created = JSON.parse(r.stdout) as Created;
  assert.ok(created.record.family_id, 'tied to the sign-in');
  assert.ok(created.record.expires_at, 'has an expiry although none was asked for');
  const lifetime = Date.parse(created.record.expires_at) - Date.now();
  assert.ok(lifetime <= MAX_DAYS * 86_400_000, `lives at most ${MAX_DAYS} days, not ${lifetime} ms`);
  assert.ok(lifetime > (MAX_DAYS - 1) * 86_400_000);
  assert.equal(await listCertificatesWith(created.token), 200);

  await logout();
  assert.equal(await listCertificatesWith(created.token), 401, 'logout revoked the token it minted');
});

test('without --ttl a token made with a sign-in still gets the bounded expiry', async () => {
  await login('admin');
  const r = await createToken();
  assert.equal(r.code, 0, r.stderr);
  const created = JSON.parse(r.stdout) as Created;
  assert.ok(created.record.expires_at);
  assert.ok(Date.parse(created.record.expires_at) - Date.now() <= MAX_DAYS * 86_400_000);
  await logout();
});

test('--durable (admin) is not tied to the sign-in and survives logout', async () => {
  await login('admin');
  const r = await createToken(['--durable']);
  assert.equal(r.code, 0, r.stderr);
  const created = JSON.parse(r.stdout) as Created;
  assert.equal(created.record.family_id, null);
  assert.equal(created.record.expires_at, null);
  await logout();
  assert.equal(await listCertificatesWith(created.token), 200, 'a durable token outlives the sign-in');
});

test('--durable without tokens:manage is refused with the refusal contract', async () => {
  await login('olga');
  const r = await createToken(['--durable']);
  assert.notEqual(r.code, 0, r.stdout);
  assert.match(r.stderr, /tokens:manage/);
  await logout();
});

test('a token made with a tied token is tied to the same sign-in: a second hop does not escape logout', async () => {
  await login('admin');
  const first = JSON.parse((await createToken(['--scope', 'tokens:manage'])).stdout) as Created;
  assert.ok(first.record.family_id);
  // The tied token makes another one over the API, as a script holding it would.
  const second = await call(`${server.url}/v1/tokens`, {
    method: 'POST',
    ca: caPem,
    headers: { authorization: `Bearer ${first.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'api', scopes: ['certificates:read'], ttl_seconds: 365 * 86_400 }),
  });
  assert.equal(second.status, 201, JSON.stringify(second.json));
  const made = second.json as unknown as Created;
  assert.equal(made.record.family_id, first.record.family_id, 'the same sign-in');
  assert.ok(Date.parse(String(made.record.expires_at)) - Date.now() <= MAX_DAYS * 86_400_000);
  assert.equal(await listCertificatesWith(made.token), 200);
  await logout();
  assert.equal(await listCertificatesWith(made.token), 401, 'logout revoked the second hop too');
});

test('disabling an account refuses the tokens its sign-in minted, and enabling it does not revive its sign-in', async () => {
  await login('olga');
  const r = await createToken();
  assert.equal(r.code, 0, r.stderr);
  const created = JSON.parse(r.stdout) as Created;
  assert.equal(await listCertificatesWith(created.token), 200);

  const disabled = cli(['user', 'disable', 'olga', '--data', data]);
  assert.equal(disabled.code, 0, disabled.stderr);
  const refused = await call(`${server.url}/v1/certificates`, {
    ca: caPem,
    headers: { authorization: `Bearer ${created.token}` },
  });
  assert.equal(refused.status, 401, refused.text);
  // Disabling revoked the sign-in's refresh family, and with it what the sign-in minted.
  assert.equal((refused.json as { reason?: string }).reason, 'token_revoked');

  const enabled = cli(['user', 'enable', 'olga', '--data', data]);
  assert.equal(enabled.code, 0, enabled.stderr);
  assert.equal(await listCertificatesWith(created.token), 401, 'the minted token stays dead');
});
