/**
 * The front door as other software meets it: the real curl against `certmaster serve`, speaking
 * Basic (RFC 7617), Digest (RFC 7616), OAuth 2 token grants (RFC 6749) and bearer tokens (RFC 6750),
 * with every answer checked for status, body and challenge headers.
 */
import assert from 'node:assert/strict';
import { createPublicKey, verify } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli, type RunningServer, startServer, tempDir } from '../helpers/cli.js';
import { type CurlResponse, type CurlResult, curl, header } from './curl.js';

const tmp = tempDir('frontdoor');
const data = join(tmp.path, 'data');
const caFile = join(data, 'ca', 'ca.pem');
const ADMIN_PASSWORD = 'Quartz-Lantern-Meadow-42';
const ALICE_PASSWORD = 'Velvet-Harbor-Compass-17';
let server: RunningServer;
let botSecret: string;

function passwordFile(name: string, password: string): string {
  const path = join(tmp.path, `${name}.pw`);
  writeFileSync(path, `${password}\n`, { mode: 0o600 });
  return path;
}

function challenges(response: CurlResponse): string[] {
  return response.headers.get('www-authenticate') ?? [];
}

/** The problem+json contract: reason, status, and the request id in both body and header. */
function assertProblem(result: CurlResult, status: number, reason: string): void {
  assert.equal(result.final.status, status, result.final.body);
  assert.match(header(result.final, 'content-type') ?? '', /^application\/problem\+json/);
  assert.equal(result.json.status, status);
  assert.equal(result.json.reason, reason);
  assert.equal(typeof result.json.hint, 'string');
  assert.ok(String(result.json.hint).length > 0);
  assert.equal(result.json.request_id, header(result.final, 'x-request-id'));
}

/** RFC 7515 signature check with node:crypto alone, for the algorithms a keyring may use. */
function verifyJws(alg: string, jwk: Record<string, string>, input: string, signature: Buffer): boolean {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(input);
  if (alg === 'EdDSA') return verify(null, data, key, signature);
  const hash = { ES256: 'sha256', ES384: 'sha384', RS256: 'sha256', PS256: 'sha256' }[alg];
  assert.ok(hash, `unexpected alg ${alg}`);
  return verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
}

async function passwordGrant(user: string, password: string): Promise<CurlResult> {
  return curl(caFile, [
    '-d',
    'grant_type=password',
    '-d',
    `username=${user}`,
    '-d',
    `password=${password}`,
    '-d',
    'client_id=certmaster-cli',
    `${server.url}/oauth/token`,
  ]);
}

before(async () => {
  const init = cli([
    'init',
    '--data',
    data,
    '--admin-password-file',
    passwordFile('admin', ADMIN_PASSWORD),
    '--admin-digest',
  ]);
  assert.equal(init.code, 0, init.stderr);
  const alice = cli([
    'user',
    'add',
    'alice',
    '--role',
    'operator',
    '--password-file',
    passwordFile('alice', ALICE_PASSWORD),
    '--data',
    data,
  ]);
  assert.equal(alice.code, 0, alice.stderr);
  assert.match(alice.stdout, /Created operator account alice\n/);
  const bot = cli(['client', 'add', 'bot', '--role', 'operator', '--data', data, '--json']);
  assert.equal(bot.code, 0, bot.stderr);
  const created = JSON.parse(bot.stdout) as { client_id: string; client_secret: string; role: string };
  assert.equal(created.client_id, 'bot');
  assert.equal(created.role, 'operator');
  botSecret = created.client_secret;
  assert.ok(botSecret.length >= 32);
  // Every refusal below comes from 127.0.0.1: without room for them the address throttle (5 free
  // failures by default) would answer the later, valid requests with 429.
  const room = cli(['config', 'set', 'auth.throttle_free_failures', '50', '--data', data]);
  assert.equal(room.code, 0, room.stderr);
  server = await startServer(data);
});

after(async () => {
  if (server) assert.equal(await server.stop('SIGTERM'), 0);
  tmp.remove();
});

describe('Basic (RFC 7617)', () => {
  test('curl --basic with the right password is admin via basic', async () => {
    const r = await curl(caFile, ['--basic', '-u', `admin:${ADMIN_PASSWORD}`, `${server.url}/v1/whoami`]);
    assert.equal(r.final.status, 200, r.final.body);
    assert.equal(r.json.name, 'admin');
    assert.equal(r.json.method, 'basic');
    assert.deepEqual(r.json.roles, ['admin']);
    assert.ok((r.json.scopes as string[]).includes('users:manage'));
  });

  test('a wrong password is 401 credentials_invalid with Bearer, Digest and Basic challenges', async () => {
    const r = await curl(caFile, [
      '--basic',
      '-u',
      'admin:Not-The-Right-Passphrase',
      `${server.url}/v1/whoami`,
    ]);
    assertProblem(r, 401, 'credentials_invalid');
    const c = challenges(r.final);
    assert.equal(c.length, 3, c.join(' | '));
    assert.equal(c[0], 'Bearer realm="certmaster"', 'no error attributes: no token was presented');
    assert.match(c[1] ?? '', /^Digest realm="certmaster", /);
    assert.match(c[1] ?? '', /qop="auth"/);
    assert.match(c[1] ?? '', /algorithm=SHA-256/);
    assert.match(c[1] ?? '', /nonce="[^"]+"/);
    assert.match(c[1] ?? '', /opaque="[^"]+"/);
    assert.match(c[1] ?? '', /userhash=true/);
    assert.equal(c[2], 'Basic realm="certmaster", charset="UTF-8"');
    // Nothing in the answer tells whether the account exists or which part was wrong.
    assert.ok(!r.final.body.includes('Not-The-Right-Passphrase'));
    const unknown = await curl(caFile, [
      '--basic',
      '-u',
      'nobody:Not-The-Right-Passphrase',
      `${server.url}/v1/whoami`,
    ]);
    assertProblem(unknown, 401, 'credentials_invalid');
    assert.equal(unknown.json.detail, r.json.detail);
  });
});

describe('Digest (RFC 7616)', () => {
  test('curl --digest answers our SHA-256 challenge and gets Authentication-Info', async () => {
    const r = await curl(caFile, ['--digest', '-u', `admin:${ADMIN_PASSWORD}`, `${server.url}/v1/whoami`]);
    assert.equal(r.responses.length, 2, 'a challenge, then the answer');
    assert.equal(r.responses[0]?.status, 401);
    assert.ok(challenges(r.responses[0] as CurlResponse).some((c) => /^Digest .*algorithm=SHA-256/.test(c)));
    assert.equal(r.final.status, 200, r.final.body);
    assert.equal(r.json.name, 'admin');
    assert.equal(r.json.method, 'digest');
    const info = header(r.final, 'authentication-info');
    assert.ok(info, 'RFC 7616 §3.5: Authentication-Info on success');
    // rspauth is a SHA-256 digest (64 hex digits), so curl did pick SHA-256 and not MD5.
    assert.match(info, /rspauth="[0-9a-f]{64}"/);
    assert.match(info, /qop=auth/);
    assert.match(info, /nc=00000001/);
  });

  test('an account created without --digest is refused over digest but accepted over basic', async () => {
    const digest = await curl(caFile, [
      '--digest',
      '-u',
      `alice:${ALICE_PASSWORD}`,
      `${server.url}/v1/whoami`,
    ]);
    assert.equal(digest.final.status, 401, digest.final.body);
    assert.equal(digest.json.status, 401);
    assert.equal(challenges(digest.final).length, 3);
    const basic = await curl(caFile, ['--basic', '-u', `alice:${ALICE_PASSWORD}`, `${server.url}/v1/whoami`]);
    assert.equal(basic.final.status, 200, basic.final.body);
    assert.equal(basic.json.name, 'alice');
    assert.equal(basic.json.method, 'basic');
    assert.deepEqual(basic.json.roles, ['operator']);
  });
});

describe('OAuth 2 token endpoint and bearer tokens', () => {
  test('password grant for certmaster-cli, then --oauth2-bearer is admin via access_token', async () => {
    const grant = await passwordGrant('admin', ADMIN_PASSWORD);
    assert.equal(grant.final.status, 200, grant.final.body);
    assert.equal(header(grant.final, 'cache-control'), 'no-store');
    assert.equal(grant.json.token_type, 'Bearer');
    assert.equal(grant.json.expires_in, 900);
    assert.match(String(grant.json.refresh_token), /^cmrt_/);
    assert.ok(String(grant.json.scope).split(' ').includes('users:manage'));
    const token = String(grant.json.access_token);
    const me = await curl(caFile, ['--oauth2-bearer', token, `${server.url}/v1/whoami`]);
    assert.equal(me.final.status, 200, me.final.body);
    assert.equal(me.json.name, 'admin');
    assert.equal(me.json.method, 'access_token');
    assert.equal(typeof me.json.token_id, 'string');
    const expires = Date.parse(String(me.json.token_expires_at));
    assert.ok(expires > Date.now() + 800_000 && expires <= Date.now() + 900_000);
  });

  test('a wrong password at the token endpoint is invalid_grant, not cached', async () => {
    const grant = await passwordGrant('admin', 'Not-The-Right-Passphrase');
    assert.equal(grant.final.status, 400, grant.final.body);
    assert.equal(header(grant.final, 'cache-control'), 'no-store');
    assert.equal(grant.json.error, 'invalid_grant');
    assert.equal(grant.json.reason, 'credentials_invalid');
    assert.equal(grant.json.access_token, undefined);
  });

  test('a token narrowed to requests:read is 403 insufficient_scope on /v1/users, naming the scope', async () => {
    const grant = await curl(caFile, [
      '-d',
      'grant_type=password',
      '-d',
      'username=admin',
      '-d',
      `password=${ADMIN_PASSWORD}`,
      '-d',
      'client_id=certmaster-cli',
      '-d',
      'scope=requests:read',
      `${server.url}/oauth/token`,
    ]);
    assert.equal(grant.final.status, 200, grant.final.body);
    assert.equal(grant.json.scope, 'requests:read');
    const r = await curl(caFile, [
      '--oauth2-bearer',
      String(grant.json.access_token),
      `${server.url}/v1/users`,
    ]);
    assertProblem(r, 403, 'insufficient_scope');
    assert.equal(r.json.scope, 'users:manage');
    const bearer = challenges(r.final).find((c) => c.startsWith('Bearer '));
    assert.match(bearer ?? '', /error="insufficient_scope"/);
    assert.match(bearer ?? '', /scope="users:manage"/);
  });

  test('an operator account whose role lacks users:manage is 403 forbidden, without a challenge', async () => {
    const grant = await passwordGrant('alice', ALICE_PASSWORD);
    assert.equal(grant.final.status, 200, grant.final.body);
    const r = await curl(caFile, [
      '--oauth2-bearer',
      String(grant.json.access_token),
      `${server.url}/v1/users`,
    ]);
    assertProblem(r, 403, 'forbidden');
    assert.equal(r.json.scope, 'users:manage');
    assert.deepEqual(challenges(r.final), []);
  });

  test('client_credentials with curl -u ID:SECRET gives a token that reads /v1/requests', async () => {
    const grant = await curl(caFile, [
      '-u',
      `bot:${botSecret}`,
      '-d',
      'grant_type=client_credentials',
      `${server.url}/oauth/token`,
    ]);
    assert.equal(grant.final.status, 200, grant.final.body);
    assert.equal(header(grant.final, 'cache-control'), 'no-store');
    assert.equal(grant.json.refresh_token, undefined, 'RFC 6749 §4.4.3: no refresh token');
    const token = String(grant.json.access_token);
    const list = await curl(caFile, ['--oauth2-bearer', token, `${server.url}/v1/requests?state=all`]);
    assert.equal(list.final.status, 200, list.final.body);
    assert.ok(Array.isArray(list.json.requests));
    const me = await curl(caFile, ['--oauth2-bearer', token, `${server.url}/v1/whoami`]);
    assert.equal(me.json.name, 'bot');
    assert.deepEqual(me.json.roles, ['operator']);

    const wrong = await curl(caFile, [
      '-u',
      'bot:not-the-secret',
      '-d',
      'grant_type=client_credentials',
      `${server.url}/oauth/token`,
    ]);
    assert.equal(wrong.final.status, 401, wrong.final.body);
    assert.equal(wrong.json.error, 'invalid_client');
    assert.deepEqual(challenges(wrong.final), ['Basic realm="certmaster", charset="UTF-8"']);
  });

  test('a garbage bearer token is 401 token_invalid with error="invalid_token"', async () => {
    const r = await curl(caFile, ['--oauth2-bearer', 'garbage', `${server.url}/v1/whoami`]);
    assertProblem(r, 401, 'token_invalid');
    const c = challenges(r.final);
    assert.equal(c.length, 3, c.join(' | '));
    assert.match(c[0] ?? '', /^Bearer realm="certmaster", error="invalid_token", error_description="[^"]+"$/);
    assert.match(c[1] ?? '', /^Digest /);
    assert.match(c[2] ?? '', /^Basic /);
  });
});

describe('metadata', () => {
  test('RFC 8414 metadata and the JWKS agree with each other, with serve and with issued tokens', async () => {
    const meta = await curl(caFile, [`${server.url}/.well-known/oauth-authorization-server`]);
    assert.equal(meta.final.status, 200, meta.final.body);
    assert.equal(meta.json.issuer, server.url, 'the issuer is the URL serve printed');
    assert.equal(meta.json.token_endpoint, `${server.url}/oauth/token`);
    assert.equal(meta.json.revocation_endpoint, `${server.url}/oauth/revoke`);
    assert.equal(meta.json.introspection_endpoint, `${server.url}/oauth/introspect`);
    assert.equal(meta.json.jwks_uri, `${server.url}/.well-known/jwks.json`);
    assert.deepEqual(meta.json.grant_types_supported, ['password', 'client_credentials', 'refresh_token']);

    const jwks = await curl(caFile, [String(meta.json.jwks_uri)]);
    assert.equal(jwks.final.status, 200, jwks.final.body);
    assert.match(header(jwks.final, 'content-type') ?? '', /^application\/jwk-set\+json/);
    const keys = jwks.json.keys as Array<Record<string, string>>;
    assert.ok(keys.length >= 1);
    for (const key of keys) {
      assert.equal(key.use, 'sig');
      assert.equal(key.d, undefined, 'no private key material');
    }

    // A token the server issues verifies with a key from jwks_uri and names the same issuer.
    const grant = await passwordGrant('admin', ADMIN_PASSWORD);
    assert.equal(grant.final.status, 200, grant.final.body);
    const [head = '', payload = '', signature = ''] = String(grant.json.access_token).split('.');
    const jose = JSON.parse(Buffer.from(head, 'base64url').toString()) as { kid: string; alg: string };
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { iss: string; sub: string };
    assert.equal(claims.iss, meta.json.issuer);
    assert.equal(claims.sub, 'admin');
    const jwk = keys.find((k) => k.kid === jose.kid);
    assert.ok(jwk, `kid ${jose.kid} is published`);
    assert.equal(jwk.alg, jose.alg);
    const sig = Buffer.from(signature, 'base64url');
    assert.ok(verifyJws(jose.alg, jwk, `${head}.${payload}`, sig));
    assert.ok(!verifyJws(jose.alg, jwk, `${head}.${payload}x`, sig));
  });
});
