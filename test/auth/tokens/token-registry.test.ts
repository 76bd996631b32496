/**
 * The token registry: one place decides which kind a token is. Unit tests with recording handlers,
 * then the certmaster registry over a real store, one token of each kind.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { AuthFailure } from '../../../src/auth/failure.js';
import { SecretBox } from '../../../src/auth/secret-box.js';
import { AccessTokens } from '../../../src/auth/tokens/access-tokens.js';
import { SigningKeyRing } from '../../../src/auth/tokens/keyring.js';
import { OAuthError } from '../../../src/auth/tokens/oauth-error.js';
import { OpaqueTokens } from '../../../src/auth/tokens/opaque-tokens.js';
import { RefreshTokens } from '../../../src/auth/tokens/refresh-tokens.js';
import {
  certmasterTokenRegistry,
  type TokenHandler,
  TokenRegistry,
} from '../../../src/auth/tokens/token-registry.js';
import { openStore } from '../../../src/store/open.js';
import type { Principal } from '../../../src/types.js';
import { MovableClock } from '../../helpers/clock.js';

const CALLER = { clientId: 'certmaster-cli', firstPartyClientId: 'certmaster-cli' };

/** A handler that records which of its methods saw which token. */
function recording(name: string, calls: string[]): TokenHandler {
  const principal = { name, anonymous: false, roles: [], scopes: [], method: 'api_token' } as Principal;
  return {
    verify: async (token) => {
      calls.push(`${name}.verify ${token}`);
      return principal;
    },
    introspect: async (token) => {
      calls.push(`${name}.introspect ${token}`);
      return { active: false };
    },
    revoke: async (token) => {
      calls.push(`${name}.revoke ${token}`);
      return { cause: name };
    },
  };
}

async function refusalOf(promise: Promise<unknown>): Promise<AuthFailure> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AuthFailure, String(error));
    return error;
  }
  assert.fail('the token was accepted');
}

describe('TokenRegistry', () => {
  const calls: string[] = [];
  const registry = new TokenRegistry()
    .register({ prefix: 'cmat_' }, recording('api', calls))
    .register({ prefix: 'cmet_' }, recording('enrollment', calls))
    .register({ prefix: 'cmrt_' }, recording('refresh', calls))
    .register('jwt', recording('access', calls));

  test('each kind goes to its own handler, for verify, introspect and revoke alike', async () => {
    calls.length = 0;
    for (const token of ['cmat_x', 'cmet_x', 'cmrt_x', 'h.p.s', 'cmat_a.b.c']) {
      await registry.verify(token);
      await registry.introspect(token);
      await registry.revoke(token, CALLER);
    }
    assert.deepEqual(calls, [
      ...['verify', 'introspect', 'revoke'].map((m) => `api.${m} cmat_x`),
      ...['verify', 'introspect', 'revoke'].map((m) => `enrollment.${m} cmet_x`),
      ...['verify', 'introspect', 'revoke'].map((m) => `refresh.${m} cmrt_x`),
      ...['verify', 'introspect', 'revoke'].map((m) => `access.${m} h.p.s`),
      // A prefix decides before the shape: a prefixed token is never taken for a JWT.
      ...['verify', 'introspect', 'revoke'].map((m) => `api.${m} cmat_a.b.c`),
    ]);
  });

  test('an unknown prefix is refused without reaching any handler', async () => {
    calls.length = 0;
    for (const token of ['cmxx_abc', 'ghp_abc', 'a.b', 'a.b.c.d', '', 'CMAT_x']) {
      assert.equal(registry.handlerOf(token), null, token);
      const failure = await refusalOf(registry.verify(token));
      assert.equal(failure.reason, 'token_invalid');
      assert.equal(failure.scheme, 'bearer');
      assert.equal(failure.detail, 'the bearer token is not a certmaster access token (a signed JWT)');
      assert.deepEqual(await registry.introspect(token), { active: false });
      assert.match((await registry.revoke(token, CALLER)).cause, /^nothing revoked: token_invalid: /);
    }
    assert.deepEqual(calls, []);
  });

  test('without a JWT handler a JWT-shaped token is unknown too', async () => {
    const only = new TokenRegistry().register({ prefix: 'cmat_' }, recording('api', []));
    assert.equal(only.handlerOf('h.p.s'), null);
    await refusalOf(only.verify('h.p.s'));
  });

  test('overlapping prefixes, an empty prefix and a second JWT handler are refused at registration', () => {
    const handler = recording('x', []);
    const base = () => new TokenRegistry().register({ prefix: 'cmat_' }, handler).register('jwt', handler);
    assert.throws(() => base().register({ prefix: 'cm' }, handler), /overlaps/);
    assert.throws(() => base().register({ prefix: 'cmat_x' }, handler), /overlaps/);
    assert.throws(() => base().register({ prefix: '' }, handler), /empty/);
    assert.throws(() => base().register('jwt', handler), /already/);
  });
});

describe('certmasterTokenRegistry over a real store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certmaster-registry-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('API, enrollment, refresh and access tokens each reach their kind', async () => {
    const store = await openStore(`sqlite:${join(dir, 'registry.db')}`);
    try {
      const clock = new MovableClock(Date.UTC(2030, 0, 1, 12));
      const now = clock.now();
      await store.createUser({
        name: 'alice',
        role: 'admin',
        passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$aGFzaA',
        digestSecrets: null,
        disabled: false,
        namePatterns: [],
        createdAt: now,
        updatedAt: now,
        passwordChangedAt: now,
      });
      const keyring = new SigningKeyRing(store, new SecretBox(randomBytes(32)), clock);
      await keyring.init();
      const accessTokens = new AccessTokens({ keyring, store, clock, issuer: 'https://ca.example.test' });
      const refreshTokens = new RefreshTokens({
        store,
        clock,
        ttlSeconds: 3600,
        familyLifetimeSeconds: 7200,
      });
      const opaqueTokens = new OpaqueTokens({ store, clock });
      const registry = certmasterTokenRegistry({ accessTokens, refreshTokens, opaqueTokens, store, clock });

      const api = await opaqueTokens.create({ kind: 'api', owner: 'alice', scopes: ['requests:read'] });
      const enrollment = await opaqueTokens.create({
        kind: 'enrollment',
        owner: 'alice',
        namePattern: '*.example.com',
      });
      const refresh = await refreshTokens.issue({
        subject: 'alice',
        clientId: 'certmaster-cli',
        scopes: ['requests:read'],
      });
      const access = await accessTokens.issue({
        subject: 'alice',
        clientId: 'certmaster-cli',
        scopes: ['requests:read'],
        roles: ['admin'],
        familyId: refresh.record.familyId,
        ttlSeconds: 600,
      });

      assert.equal((await registry.verify(api.token)).method, 'api_token');
      assert.equal((await registry.verify(enrollment.token)).method, 'enrollment_token');
      assert.equal((await registry.verify(access.token)).method, 'access_token');
      // A refresh token is spent at the token endpoint only; as a bearer token it is refused.
      const asBearer = await refusalOf(registry.verify(refresh.token));
      assert.equal(asBearer.reason, 'token_invalid');

      const kinds: string[] = [];
      for (const token of [api.token, enrollment.token, refresh.token, access.token]) {
        const answer = await registry.introspect(token);
        assert.ok(answer.active, token.slice(0, 5));
        kinds.push(answer.certmaster_token_kind);
      }
      assert.deepEqual(kinds, ['api_token', 'enrollment_token', 'refresh_token', 'access_token']);

      // Another client may not revoke the CLI's tokens; anyone may revoke an API token.
      const stranger = { clientId: 'svc-other', firstPartyClientId: 'certmaster-cli' };
      await assert.rejects(registry.revoke(access.token, stranger), OAuthError);
      assert.equal((await registry.revoke(api.token, stranger)).cause, 'api token revoked');
      assert.equal(
        (await registry.revoke(access.token, CALLER)).cause,
        'access token denylisted until it expires',
      );
      assert.match((await registry.revoke(refresh.token, CALLER)).cause, /^refresh family revoked/);
      for (const token of [api.token, refresh.token, access.token]) {
        assert.deepEqual(await registry.introspect(token), { active: false }, token.slice(0, 5));
      }
    } finally {
      await store.close();
    }
  });
});
