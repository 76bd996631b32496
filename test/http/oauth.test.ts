/**
 * The OAuth 2 authorization server over a real store and a real Fastify app: grants (RFC 6749),
 * rotation and reuse detection (RFC 9700 §4.14), revocation (RFC 7009), introspection (RFC 7662),
 * metadata (RFC 8414) and the JWKS (RFC 7517), with time moved by an injected clock.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { AuthFailure } from '../../src/auth/failure.js';
import { FailureLimiter } from '../../src/auth/limiter.js';
import { PasswordHasher } from '../../src/auth/passwords.js';
import { ROLE_SCOPES, SCOPES } from '../../src/auth/scopes.js';
import { SecretBox } from '../../src/auth/secret-box.js';
import { AccessTokens } from '../../src/auth/tokens/access-tokens.js';
import { SigningKeyRing } from '../../src/auth/tokens/keyring.js';
import { OpaqueTokens } from '../../src/auth/tokens/opaque-tokens.js';
import { RefreshTokens } from '../../src/auth/tokens/refresh-tokens.js';
import { type OAuthDecision, oauthPlugin } from '../../src/http/oauth.js';
import type { OAuthClientRecord } from '../../src/store/identities/auth-store.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import type { Role } from '../../src/types.js';
import { MovableClock } from '../helpers/clock.js';

const ISSUER = 'https://ca.example.test:8443';
const TTL = 600;
const CLI = 'certmaster-cli';
const PASSWORD = 'correct horse battery staple';
/** Characters RFC 6749 §2.3.1 makes clients form-encode before Basic: ":" "+" "%" space and non-ASCII. */
const READER_SECRET = 'r3ader:secret+with %odd/chars é';
const INTROSPECTOR_SECRET = 'introspector-secret-0123456789';
const BASIC_CHALLENGE = 'Basic realm="certmaster", charset="UTF-8"';

const dir = mkdtempSync(join(tmpdir(), 'certmaster-oauth-'));
const box = new SecretBox(randomBytes(32));
// Cheap argon2 parameters: these tests are about OAuth, not about the cost of a hash.
const hasher = new PasswordHasher({
  params: { memoryKiB: 64, iterations: 1, parallelism: 1 },
  cacheTtlMs: 0,
});
let count = 0;
let store: CertmasterStore;
let clock: MovableClock;
let ring: SigningKeyRing;
let access: AccessTokens;
let refresh: RefreshTokens;
let opaque: OpaqueTokens;
let limiter: FailureLimiter;
let app: FastifyInstance;
let decisions: OAuthDecision[];

/** What the integrator wires to the Authenticator: throttled, same answer for unknown user and wrong password. */
async function verifyPassword(
  username: string,
  password: string,
  address: string,
): Promise<{ name: string; role: Role }> {
  const wait = limiter.retryAfter(address, username);
  if (wait > 0) {
    throw new AuthFailure(
      'too_many_attempts',
      `too many failed attempts; try again in ${wait} seconds`,
      'wait (see Retry-After) and check the credentials',
      { code: 'throttled', address, account: username, seconds: wait },
      { retryAfterSeconds: wait },
    );
  }
  const user = await store.getUser(username);
  const result = await hasher.verify(user?.passwordHash ?? null, password);
  if (user === null || !result.ok) {
    limiter.recordFailure(address, username);
    throw new AuthFailure(
      'credentials_invalid',
      'the user name or password is not right',
      'check them',
      user === null
        ? { code: 'unknown_user', name: username, hashed: false }
        : { code: 'password_mismatch', account: username },
    );
  }
  if (user.disabled) {
    throw new AuthFailure('account_disabled', 'this account is disabled', 'ask an administrator', {
      code: 'account_disabled',
      account: user.name,
      kind: 'user',
    });
  }
  return { name: user.name, role: user.role };
}

async function authenticateClient(
  clientId: string,
  secret: string,
  address: string,
): Promise<OAuthClientRecord> {
  const client = await store.getClient(clientId);
  const result = await hasher.verify(client?.secretHash ?? null, secret);
  if (client === null || !result.ok || client.disabled) {
    limiter.recordFailure(address, `client:${clientId}`);
    throw new AuthFailure(
      'credentials_invalid',
      'client authentication failed',
      'check the client id and secret',
      client === null
        ? { code: 'unknown_client', client: clientId }
        : { code: 'client_secret_mismatch', client: clientId },
    );
  }
  return client;
}

async function addUser(name: string, role: Role, disabled = false): Promise<void> {
  const now = clock.now();
  await store.createUser({
    name,
    role,
    passwordHash: await hasher.hash(PASSWORD),
    digestSecrets: null,
    disabled,
    namePatterns: [],
    createdAt: now,
    updatedAt: now,
    passwordChangedAt: now,
  });
}

async function addClient(clientId: string, secret: string, role: Role, scopes: string[]): Promise<void> {
  await store.createClient({
    clientId,
    secretHash: await hasher.hash(secret),
    role,
    scopes,
    owner: 'ada',
    disabled: false,
    createdAt: clock.now(),
  });
}

beforeEach(async () => {
  count += 1;
  store = await openStore(`sqlite:${join(dir, `oauth-${count}.db`)}`);
  clock = new MovableClock(Date.UTC(2030, 0, 1, 12));
  ring = new SigningKeyRing(store, box, clock);
  await ring.init();
  access = new AccessTokens({ keyring: ring, store, clock, issuer: ISSUER });
  refresh = new RefreshTokens({ store, clock });
  opaque = new OpaqueTokens({ store, clock });
  limiter = new FailureLimiter({ clock, freeFailures: 3 });
  decisions = [];
  await addUser('alice', 'operator');
  await addUser('ada', 'admin');
  await addUser('dave', 'operator', true);
  await addClient('svc-reader', READER_SECRET, 'auditor', [
    'certificates:read',
    'audit:read',
    'users:manage',
  ]);
  await addClient('svc-introspector', INTROSPECTOR_SECRET, 'admin', ['tokens:manage']);
  app = Fastify();
  await app.register(oauthPlugin, {
    keyring: ring,
    accessTokens: access,
    refreshTokens: refresh,
    opaqueTokens: opaque,
    store,
    clock,
    issuer: ISSUER,
    accessTokenTtlSeconds: TTL,
    verifyPassword,
    authenticateClient,
    firstPartyClientId: CLI,
    onDecision: (decision) => {
      decisions.push(decision);
    },
  });
  await app.ready();
});
afterEach(async () => {
  await app.close();
  await store.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(secret)}`, 'utf8').toString('base64')}`;
}

function post(url: string, form: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams(form).toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
}

function login(username = 'alice', extra: Record<string, string> = {}) {
  return post('/oauth/token', {
    grant_type: 'password',
    client_id: CLI,
    username,
    password: PASSWORD,
    ...extra,
  });
}

interface TokenBody {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  scope: string;
}

async function tokensOf(response: Promise<LightMyRequestResponse>): Promise<TokenBody> {
  const reply = await response;
  assert.equal(reply.statusCode, 200, reply.body);
  assert.equal(reply.headers['cache-control'], 'no-store');
  assert.equal(reply.headers.pragma, 'no-cache');
  assert.match(String(reply.headers['content-type']), /^application\/json/);
  return reply.json<TokenBody>();
}

function assertOAuthError(
  reply: LightMyRequestResponse,
  status: number,
  error: string,
  reason?: string,
): void {
  assert.equal(reply.statusCode, status, reply.body);
  assert.equal(reply.headers['cache-control'], 'no-store');
  const body = reply.json<Record<string, unknown>>();
  assert.equal(body.error, error);
  assert.equal(typeof body.error_description, 'string');
  assert.ok(String(body.hint).length > 5, 'a hint a person can act on');
  assert.equal(typeof body.request_id, 'string');
  if (reason !== undefined) assert.equal(body.reason, reason);
}

function introspect(token: string, authorization = basic('svc-introspector', INTROSPECTOR_SECRET)) {
  return post('/oauth/introspect', { token }, { authorization });
}

describe('POST /oauth/token, password grant (certmaster-cli only)', () => {
  test('returns an access token, a refresh token and the role scopes, never cached', async () => {
    const body = await tokensOf(login());
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, TTL);
    assert.equal(body.scope, ROLE_SCOPES.operator.join(' '));
    assert.match(body.refresh_token ?? '', /^cmrt_[A-Za-z0-9_-]{43}$/);
    const principal = await access.verify(body.access_token);
    assert.equal(principal.name, 'alice');
    assert.deepEqual(principal.roles, ['operator']);
    assert.deepEqual(principal.scopes, [...ROLE_SCOPES.operator]);
    const claims = await access.check(body.access_token);
    assert.equal(claims.client_id, CLI);
    assert.ok(claims.sid);
    assert.deepEqual(
      decisions.map((d) => [d.endpoint, d.outcome, d.grantType, d.subject]),
      [['token', 'granted', 'password', 'alice']],
    );
  });

  test('a requested scope narrows the grant; one outside the role is invalid_scope', async () => {
    const narrow = await tokensOf(login('alice', { scope: 'certificates:read requests:read' }));
    assert.equal(narrow.scope, 'requests:read certificates:read');
    assert.deepEqual((await access.verify(narrow.access_token)).scopes, [
      'requests:read',
      'certificates:read',
    ]);
    assertOAuthError(await login('alice', { scope: 'users:manage' }), 400, 'invalid_scope');
    assertOAuthError(await login('alice', { scope: 'root' }), 400, 'invalid_scope');
  });

  test('unknown user and wrong password give identical answers; the audit keeps the difference', async () => {
    const unknown = await login('mallory');
    const wrong = await post('/oauth/token', {
      grant_type: 'password',
      client_id: CLI,
      username: 'alice',
      password: 'wrong password',
    });
    assertOAuthError(unknown, 400, 'invalid_grant', 'credentials_invalid');
    const strip = (reply: LightMyRequestResponse) => {
      const { request_id: _ignored, ...rest } = reply.json<Record<string, unknown>>();
      return rest;
    };
    assert.deepEqual(strip(unknown), strip(wrong));
    assert.equal(unknown.statusCode, wrong.statusCode);
    assert.equal(unknown.headers['www-authenticate'], wrong.headers['www-authenticate']);
    assert.deepEqual(
      decisions.map((d) => d.internalCause),
      ['unknown user mallory', 'password mismatch'],
    );
    assert.ok(!unknown.body.includes('mallory'));
  });

  test('a failed sign-in records the person and the address, not the CLI client id (issue 7)', async () => {
    assertOAuthError(await login('alice', { password: 'wrong password' }), 400, 'invalid_grant');
    const refused = decisions.at(-1);
    assert.equal(refused?.subject, 'alice');
    assert.equal(refused?.clientId, CLI);
    assert.equal(refused?.clientAddress, '127.0.0.1');
    assert.equal(refused?.status, 400);
    assert.equal(refused?.description, 'the user name or password is not correct');
  });

  test('a disabled account is invalid_grant with reason account_disabled', async () => {
    assertOAuthError(await login('dave'), 400, 'invalid_grant', 'account_disabled');
  });

  test('throttled attempts are 429 slow_down with Retry-After', async () => {
    // The limiter allows three free failures; the fourth attempt waits, even with the right password.
    for (let i = 0; i < 3; i++) {
      assertOAuthError(await login('alice', { password: 'nope' }), 400, 'invalid_grant');
    }
    const throttled = await login('alice');
    assertOAuthError(throttled, 429, 'slow_down', 'too_many_attempts');
    assert.match(String(throttled.headers['retry-after']), /^[1-9][0-9]*$/);
    clock.advance(Number(throttled.headers['retry-after']));
    await tokensOf(login('alice'));
  });

  test('other clients may not use it, and an unidentified client is invalid_client', async () => {
    const confidential = await post(
      '/oauth/token',
      { grant_type: 'password', username: 'alice', password: PASSWORD },
      { authorization: basic('svc-reader', READER_SECRET) },
    );
    assertOAuthError(confidential, 400, 'unauthorized_client');
    const anonymous = await post('/oauth/token', {
      grant_type: 'password',
      username: 'alice',
      password: PASSWORD,
    });
    assertOAuthError(anonymous, 401, 'invalid_client');
    assert.equal(anonymous.headers['www-authenticate'], BASIC_CHALLENGE);
    assertOAuthError(await login('alice', { client_id: 'someone-else' }), 401, 'invalid_client');
    const withSecret = await login('alice', { client_secret: 'x' });
    assertOAuthError(withSecret, 401, 'invalid_client');
  });
});

describe('POST /oauth/token, client_credentials grant', () => {
  test('Basic with form-encoded id and secret (RFC 6749 §2.3.1) gets an access token and no refresh token', async () => {
    const body = await tokensOf(
      post(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { authorization: basic('svc-reader', READER_SECRET) },
      ),
    );
    assert.equal(body.refresh_token, undefined);
    // users:manage is in the client's list but not in its role: never granted.
    assert.equal(body.scope, 'certificates:read audit:read');
    const principal = await access.verify(body.access_token);
    assert.equal(principal.name, 'svc-reader');
    assert.deepEqual(principal.roles, ['auditor']);
    const claims = await access.check(body.access_token);
    assert.equal(claims.sid, null);
    assert.equal(claims.client_id, 'svc-reader');
  });

  test('client_secret_post works too, and scope may narrow', async () => {
    const body = await tokensOf(
      post('/oauth/token', {
        grant_type: 'client_credentials',
        client_id: 'svc-reader',
        client_secret: READER_SECRET,
        scope: 'audit:read',
      }),
    );
    assert.equal(body.scope, 'audit:read');
  });

  test('a wrong secret over Basic is 401 invalid_client with a Basic challenge', async () => {
    const reply = await post(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: basic('svc-reader', 'wrong') },
    );
    assertOAuthError(reply, 401, 'invalid_client', 'credentials_invalid');
    assert.equal(reply.headers['www-authenticate'], BASIC_CHALLENGE);
    const garbage = await post(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { authorization: 'Basic %%%' },
    );
    assertOAuthError(garbage, 401, 'invalid_client');
    assert.equal(garbage.headers['www-authenticate'], BASIC_CHALLENGE);
    const mixed = await post(
      '/oauth/token',
      { grant_type: 'client_credentials', client_secret: READER_SECRET },
      { authorization: basic('svc-reader', READER_SECRET) },
    );
    assertOAuthError(mixed, 400, 'invalid_request');
  });

  test('the public client cannot use it', async () => {
    const reply = await post('/oauth/token', { grant_type: 'client_credentials', client_id: CLI });
    assertOAuthError(reply, 400, 'unauthorized_client');
  });
});

describe('POST /oauth/token, refresh_token grant', () => {
  test('rotation returns a new pair; reuse of the old refresh token revokes the whole family', async () => {
    const first = await tokensOf(login());
    clock.advance(30);
    const second = await tokensOf(
      post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: CLI,
        refresh_token: first.refresh_token ?? '',
      }),
    );
    assert.notEqual(second.refresh_token, first.refresh_token);
    assert.notEqual(second.access_token, first.access_token);
    assert.equal(second.scope, first.scope);
    assert.equal((await access.verify(second.access_token)).name, 'alice');
    assert.equal((await access.check(second.access_token)).sid, (await access.check(first.access_token)).sid);

    const reuse = await post('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: CLI,
      refresh_token: first.refresh_token ?? '',
    });
    assertOAuthError(reuse, 400, 'invalid_grant', 'token_revoked');
    assert.match(
      decisions.at(-1)?.internalCause ?? '',
      /^refresh token reuse detected: family rtf_\S+ revoked/,
    );

    const newest = await post('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: CLI,
      refresh_token: second.refresh_token ?? '',
    });
    assertOAuthError(newest, 400, 'invalid_grant', 'token_revoked');
    for (const token of [first.access_token, second.access_token]) {
      await assert.rejects(access.verify(token), { reason: 'token_revoked' });
    }
  });

  test('a refresh token used after a normal logout is not told it may have leaked (issue 7)', async () => {
    const first = await tokensOf(login());
    const loggedOut = await post('/oauth/revoke', {
      token: first.refresh_token ?? '',
      token_type_hint: 'refresh_token',
      client_id: CLI,
    });
    assert.equal(loggedOut.statusCode, 200, loggedOut.body);
    const afterLogout = await post('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: CLI,
      refresh_token: first.refresh_token ?? '',
    });
    assertOAuthError(afterLogout, 400, 'invalid_grant', 'token_revoked');
    const body = afterLogout.json<{ error_description: string; hint: string }>();
    assert.doesNotMatch(body.hint, /leak/);
    assert.match(body.error_description, /sign-in has ended/);
    // The audit record keeps the typed cause, so explain tells a logout from a theft signal.
    const cause = decisions.at(-1)?.facts;
    assert.equal(cause?.code, 'refresh_token_reused');
    assert.ok(cause?.code === 'refresh_token_reused' && cause.usedAt === null && cause.revokedAt !== null);
  });

  test('a rotated refresh token used twice is told it may have leaked', async () => {
    const first = await tokensOf(login());
    const form = { grant_type: 'refresh_token', client_id: CLI, refresh_token: first.refresh_token ?? '' };
    await tokensOf(post('/oauth/token', form));
    const reuse = await post('/oauth/token', form);
    assertOAuthError(reuse, 400, 'invalid_grant', 'token_revoked');
    assert.match(reuse.json<{ hint: string }>().hint, /may have leaked/);
    const cause = decisions.at(-1)?.facts;
    assert.ok(cause?.code === 'refresh_token_reused' && cause.usedAt !== null, JSON.stringify(cause));
  });

  test('scope may narrow but never widen, and a refused widening leaves the token usable', async () => {
    const first = await tokensOf(login('alice', { scope: 'requests:read certificates:read' }));
    const wider = await post('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: CLI,
      refresh_token: first.refresh_token ?? '',
      scope: 'requests:read requests:approve',
    });
    assertOAuthError(wider, 400, 'invalid_scope');
    const narrower = await tokensOf(
      post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: CLI,
        refresh_token: first.refresh_token ?? '',
        scope: 'certificates:read',
      }),
    );
    assert.equal(narrower.scope, 'certificates:read');
    // RFC 6749 §6: the new refresh token keeps the original scope.
    const back = await tokensOf(
      post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: CLI,
        refresh_token: narrower.refresh_token ?? '',
      }),
    );
    assert.equal(back.scope, 'requests:read certificates:read');
  });

  test('a disabled account or a shrunken role is honoured at refresh', async () => {
    const first = await tokensOf(login());
    await store.updateUser('alice', { role: 'auditor' }, clock.now());
    const shrunk = await tokensOf(
      post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: CLI,
        refresh_token: first.refresh_token ?? '',
      }),
    );
    assert.equal(shrunk.scope, 'requests:read certificates:read');
    assert.deepEqual((await access.verify(shrunk.access_token)).roles, ['auditor']);

    await store.updateUser('alice', { disabled: true }, clock.now());
    const refused = await post('/oauth/token', {
      grant_type: 'refresh_token',
      client_id: CLI,
      refresh_token: shrunk.refresh_token ?? '',
    });
    assertOAuthError(refused, 400, 'invalid_grant');
    await assert.rejects(access.verify(shrunk.access_token), { reason: 'token_revoked' });
  });

  test('an expired or unknown refresh token is invalid_grant', async () => {
    const first = await tokensOf(login());
    clock.advance(15 * 86400);
    assertOAuthError(
      await post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: CLI,
        refresh_token: first.refresh_token ?? '',
      }),
      400,
      'invalid_grant',
      'token_expired',
    );
    assertOAuthError(
      await post('/oauth/token', { grant_type: 'refresh_token', client_id: CLI, refresh_token: 'cmrt_nope' }),
      400,
      'invalid_grant',
      'token_invalid',
    );
  });
});

describe('POST /oauth/token, malformed requests', () => {
  test('missing, unknown and repeated parameters; JSON bodies; oversized bodies', async () => {
    assertOAuthError(await post('/oauth/token', { client_id: CLI }), 400, 'invalid_request');
    assertOAuthError(
      await post('/oauth/token', { grant_type: 'authorization_code', client_id: CLI }),
      400,
      'unsupported_grant_type',
    );
    const repeated = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: `grant_type=password&client_id=${CLI}&username=alice&username=ada&password=x`,
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    });
    assertOAuthError(repeated, 400, 'invalid_request');
    assert.match(repeated.json<{ error_description: string }>().error_description, /username is repeated/);

    const json = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'password', client_id: CLI, username: 'alice', password: PASSWORD },
    });
    assert.equal(json.statusCode, 200, json.body);

    const nested = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: { grant_type: 'password', client_id: CLI, username: { $ne: 'x' }, password: PASSWORD },
    });
    assertOAuthError(nested, 400, 'invalid_request');

    const huge = await post('/oauth/token', {
      grant_type: 'password',
      client_id: CLI,
      username: 'a'.repeat(20_000),
    });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json<{ error: string }>().error, 'invalid_request');

    const proto = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      payload: `__proto__=x&grant_type=password&client_id=${CLI}&username=alice&password=${formEncode(PASSWORD)}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(proto.statusCode, 200, proto.body);
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  test('revoking an access token makes it token_revoked; unknown and invalid tokens still get 200', async () => {
    const body = await tokensOf(login());
    const revoked = await post('/oauth/revoke', { token: body.access_token, client_id: CLI });
    assert.equal(revoked.statusCode, 200, revoked.body);
    const failure = await access.verify(body.access_token).then(
      () => assert.fail('still valid'),
      (error: unknown) => error as AuthFailure,
    );
    assert.equal(failure.reason, 'token_revoked');
    assert.match(failure.internalCause, /revoked at 2030-01-01T12:00:00\.000Z/);
    // The refresh token of the same sign-in still works: only that access token was revoked.
    await tokensOf(
      post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: CLI,
        refresh_token: body.refresh_token ?? '',
      }),
    );
    for (const token of ['garbage', `cmrt_${'A'.repeat(43)}`, `cmat_${'B'.repeat(43)}`, 'a.b.c']) {
      assert.equal((await post('/oauth/revoke', { token })).statusCode, 200, token);
    }
    clock.advance(TTL);
    const expired = await tokensOf(login());
    clock.advance(TTL);
    assert.equal((await post('/oauth/revoke', { token: expired.access_token })).statusCode, 200);
  });

  test('revoking a refresh token ends its whole family', async () => {
    const body = await tokensOf(login());
    assert.equal(
      (await post('/oauth/revoke', { token: body.refresh_token ?? '', token_type_hint: 'refresh_token' }))
        .statusCode,
      200,
    );
    await assert.rejects(access.verify(body.access_token), { reason: 'token_revoked' });
    assertOAuthError(
      await post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: CLI,
        refresh_token: body.refresh_token ?? '',
      }),
      400,
      'invalid_grant',
    );
  });

  test('API and enrollment tokens are revoked by whoever holds them', async () => {
    const api = await opaque.create({ kind: 'api', owner: 'alice', scopes: ['requests:read'] });
    const enroll = await opaque.create({ kind: 'enrollment', owner: 'alice', namePattern: '*.example.com' });
    for (const { token } of [api, enroll]) {
      assert.equal((await post('/oauth/revoke', { token })).statusCode, 200);
      await assert.rejects(opaque.authenticate(token), { reason: 'token_revoked' });
    }
  });

  test('client authentication: a bad secret is 401, and a client cannot revoke another client’s tokens', async () => {
    const cliTokens = await tokensOf(login());
    const badSecret = await post(
      '/oauth/revoke',
      { token: cliTokens.access_token },
      { authorization: basic('svc-reader', 'wrong') },
    );
    assertOAuthError(badSecret, 401, 'invalid_client');
    assert.equal(badSecret.headers['www-authenticate'], BASIC_CHALLENGE);
    const foreign = await post(
      '/oauth/revoke',
      { token: cliTokens.access_token },
      { authorization: basic('svc-reader', READER_SECRET) },
    );
    assertOAuthError(foreign, 400, 'unauthorized_client');
    assert.equal((await access.verify(cliTokens.access_token)).name, 'alice');

    const service = await tokensOf(
      post(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { authorization: basic('svc-reader', READER_SECRET) },
      ),
    );
    assertOAuthError(
      await post('/oauth/revoke', { token: service.access_token }),
      400,
      'unauthorized_client',
    );
    const own = await post(
      '/oauth/revoke',
      { token: service.access_token },
      { authorization: basic('svc-reader', READER_SECRET) },
    );
    assert.equal(own.statusCode, 200);
    await assert.rejects(access.verify(service.access_token), { reason: 'token_revoked' });
    assertOAuthError(await post('/oauth/revoke', { client_id: CLI }), 400, 'invalid_request');
  });
});

describe('POST /oauth/introspect (RFC 7662)', () => {
  test('the caller must authenticate: 401 with Bearer and Basic challenges, 403 without tokens:manage', async () => {
    const none = await post('/oauth/introspect', { token: 'x' });
    assert.equal(none.statusCode, 401);
    assert.deepEqual(none.headers['www-authenticate'], ['Bearer realm="certmaster"', BASIC_CHALLENGE]);
    assert.equal(none.json<{ reason: string }>().reason, 'credentials_missing');

    const bad = await introspect('x', 'Bearer not-a-token');
    assert.equal(bad.statusCode, 401);
    const challenges = bad.headers['www-authenticate'] as string[];
    assert.match(
      challenges[0] ?? '',
      /^Bearer realm="certmaster", error="invalid_token", error_description="[^"]+"$/,
    );
    assert.equal(bad.json<{ error: string }>().error, 'invalid_token');

    const operator = await tokensOf(login());
    const weak = await introspect(operator.access_token, `Bearer ${operator.access_token}`);
    assert.equal(weak.statusCode, 403);
    assert.match(
      (weak.headers['www-authenticate'] as string[])[0] ?? '',
      /error="insufficient_scope", error_description="[^"]+", scope="tokens:manage"/,
    );
    assert.equal(weak.json<{ reason: string }>().reason, 'insufficient_scope');

    const client = await introspect('x', basic('svc-reader', READER_SECRET));
    assert.equal(client.statusCode, 403);
    const wrong = await introspect('x', basic('svc-introspector', 'wrong'));
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json<{ error: string }>().error, 'invalid_client');
  });

  test('another scheme is told in words which two it may use, not pointed at headers a CLI user cannot see', async () => {
    const digest = await introspect('x', 'Digest username="svc-introspector", realm="certmaster"');
    assert.equal(digest.statusCode, 401);
    const body = digest.json<{ reason: string; hint: string }>();
    assert.equal(body.reason, 'scheme_unsupported');
    assert.match(body.hint, /Bearer token/);
    assert.match(body.hint, /Basic/);
    assert.doesNotMatch(body.hint, /WWW-Authenticate/);
  });

  test('active access tokens are described; expired, revoked and unknown ones are just inactive', async () => {
    const alice = await tokensOf(login());
    const admin = await tokensOf(login('ada'));
    const viaBearer = await introspect(alice.access_token, `Bearer ${admin.access_token}`);
    assert.equal(viaBearer.statusCode, 200, viaBearer.body);
    assert.equal(viaBearer.headers['cache-control'], 'no-store');
    const claims = await access.check(alice.access_token);
    assert.deepEqual(viaBearer.json(), {
      active: true,
      scope: alice.scope,
      client_id: CLI,
      username: 'alice',
      token_type: 'Bearer',
      exp: claims.exp,
      iat: claims.iat,
      sub: 'alice',
      aud: 'certmaster',
      iss: ISSUER,
      jti: claims.jti,
      certmaster_token_kind: 'access_token',
    });
    const viaClient = await introspect(alice.access_token);
    assert.equal(viaClient.json<{ active: boolean }>().active, true);

    for (const token of ['garbage', `cmrt_${'A'.repeat(43)}`, `cmat_${'A'.repeat(43)}`, '']) {
      const reply = await introspect(token);
      if (token === '') {
        assertOAuthError(reply, 400, 'invalid_request');
      } else {
        assert.deepEqual(reply.json(), { active: false }, token);
      }
    }
    await post('/oauth/revoke', { token: alice.access_token });
    assert.deepEqual((await introspect(alice.access_token)).json(), { active: false });
    const later = await tokensOf(login());
    clock.advance(TTL);
    assert.deepEqual((await introspect(later.access_token)).json(), { active: false });
  });

  test('refresh, API and enrollment tokens are described too', async () => {
    const alice = await tokensOf(login());
    const refreshInfo = (await introspect(alice.refresh_token ?? '')).json<Record<string, unknown>>();
    assert.equal(refreshInfo.active, true);
    assert.equal(refreshInfo.token_type, 'refresh_token');
    assert.equal(refreshInfo.username, 'alice');
    assert.equal(refreshInfo.client_id, CLI);

    const api = await opaque.create({ kind: 'api', owner: 'ada', scopes: ['tokens:manage'] });
    const apiInfo = (await introspect(api.token, `Bearer ${api.token}`)).json<Record<string, unknown>>();
    assert.equal(apiInfo.active, true);
    assert.equal(apiInfo.certmaster_token_kind, 'api_token');
    assert.equal(apiInfo.username, 'ada');
    assert.equal(apiInfo.jti, api.record.id);

    const enroll = await opaque.create({
      kind: 'enrollment',
      owner: 'ada',
      namePattern: '*.example.com',
      uses: 1,
    });
    const enrollInfo = (await introspect(enroll.token)).json<Record<string, unknown>>();
    assert.equal(enrollInfo.certmaster_token_kind, 'enrollment_token');
    assert.equal(enrollInfo.sub, `enrollment:${enroll.record.id}`);
    assert.equal(enrollInfo.scope, 'requests:submit');
    // Introspection is not a use.
    assert.equal((await store.getToken(enroll.record.id))?.usesLeft, 1);

    await tokensOf(
      post('/oauth/token', {
        grant_type: 'refresh_token',
        client_id: CLI,
        refresh_token: alice.refresh_token ?? '',
      }),
    );
    assert.deepEqual((await introspect(alice.refresh_token ?? '')).json(), { active: false });
  });
});

describe('metadata and keys', () => {
  test('RFC 8414 metadata names the endpoints, grants, auth methods and scopes', async () => {
    const reply = await app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    assert.equal(reply.statusCode, 200);
    const meta = reply.json<Record<string, unknown>>();
    assert.equal(meta.issuer, ISSUER);
    assert.equal(meta.token_endpoint, `${ISSUER}/oauth/token`);
    assert.equal(meta.revocation_endpoint, `${ISSUER}/oauth/revoke`);
    assert.equal(meta.introspection_endpoint, `${ISSUER}/oauth/introspect`);
    assert.equal(meta.jwks_uri, `${ISSUER}/.well-known/jwks.json`);
    assert.deepEqual(meta.grant_types_supported, ['password', 'client_credentials', 'refresh_token']);
    assert.deepEqual(meta.token_endpoint_auth_methods_supported, [
      'client_secret_basic',
      'client_secret_post',
      'none',
    ]);
    assert.deepEqual(meta.response_types_supported, []);
    assert.deepEqual(meta.scopes_supported, [...SCOPES]);
    assert.ok(Array.isArray(meta.revocation_endpoint_auth_methods_supported));
    assert.ok(Array.isArray(meta.introspection_endpoint_auth_methods_supported));
  });

  test('the JWKS lists old and new keys after rotation, and verifies tokens on its own over real HTTP', async () => {
    const before = await tokensOf(login());
    await ring.rotate(TTL);
    const afterRotation = await tokensOf(login('ada'));
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const response = await fetch(`${address}/.well-known/jwks.json`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('cache-control'), 'public, max-age=60');
    assert.match(response.headers.get('content-type') ?? '', /^application\/jwk-set\+json/);
    const jwks = (await response.json()) as { keys: Array<Record<string, unknown>> };
    assert.equal(jwks.keys.length, 2);
    for (const key of jwks.keys) assert.equal(key.d, undefined, 'no private parts');
    const keySet = createLocalJWKSet(jwks as Parameters<typeof createLocalJWKSet>[0]);
    for (const [token, sub] of [
      [before.access_token, 'alice'],
      [afterRotation.access_token, 'ada'],
    ] as const) {
      const { payload } = await jwtVerify(token, keySet, {
        algorithms: ['EdDSA'],
        typ: 'at+jwt',
        issuer: ISSUER,
        audience: 'certmaster',
        currentDate: clock.now(),
      });
      assert.equal(payload.sub, sub);
    }
    clock.advance(TTL + 60);
    const later = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(JSON.parse(later.body).keys.length, 1);
  });
});
