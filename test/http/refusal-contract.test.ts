/**
 * The refusal contract (docs/refusals.md), over real HTTPS to the whole server in process, with time
 * moved by an injected clock: one test per reason code that can be reached, each checking the
 * status, the problem+json body, X-Request-Id, and every WWW-Authenticate challenge of a 401.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createAccount } from '../../src/auth/accounts.js';
import { ROLE_SCOPES } from '../../src/auth/scopes.js';
import { API_TOKEN_PREFIX, newSecretToken } from '../../src/auth/tokens/token-secrets.js';
import { CLI_CLIENT_ID } from '../../src/client/api.js';
import type { Role } from '../../src/types.js';
import { MovableClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import {
  answerDigest,
  assertChallenges,
  assertProblem,
  basicAuthorization,
  challenge,
  expectedRspauth,
  type HttpsReply,
  loopbackAddresses,
  parseAuthParams,
  postForm,
  send,
} from './front-door-client.js';

const REALM = 'certmaster';
const WHOAMI = '/v1/whoami';
const clock = new MovableClock();
const nextAddress = loopbackAddresses(10);

const ADMIN = { name: 'chief', password: 'Quarry-Lantern-5521-velvet', digest: true };
const OPERATOR = { name: 'alice', password: 'Tangerine-Orbit-7741-quasar' };
const AUDITOR = { name: 'audra', password: 'Marble-Comet-3390-willow' };
const DISABLED = { name: 'dormant', password: 'Harbor-Falcon-8812-thistle' };
const WRONG_PASSWORD = 'Not-The-Password-4410';
const UNKNOWN_USER = 'nobody-here';

let srv: TestServer;
const operatorScopes: string[] = [...ROLE_SCOPES.operator];

before(async () => {
  srv = await startTestServer({}, { clock, admin: ADMIN });
  const accounts = srv.frontDoor.accounts;
  await createAccount(accounts, { ...OPERATOR, role: 'operator', digest: true });
  await createAccount(accounts, { ...AUDITOR, role: 'auditor', digest: false });
  await createAccount(accounts, { ...DISABLED, role: 'operator', digest: true });
  await srv.instance.store.updateUser(DISABLED.name, { disabled: true }, clock.now());
});
after(async () => {
  await srv.close();
});

function get(path: string, headers: Record<string, string>, localAddress: string): Promise<HttpsReply> {
  return send(`${srv.url}${path}`, { ca: srv.caPem, headers, localAddress });
}

function whoami(authorization: string | undefined, localAddress: string): Promise<HttpsReply> {
  return get(WHOAMI, authorization === undefined ? {} : { authorization }, localAddress);
}

function asUser(account: { name: string; password: string }): { user: string; password: string } {
  return { user: account.name, password: account.password };
}

/** A problem body must not say whether an account exists: it never names the account claimed. */
function assertNamesNoAccount(reply: HttpsReply, ...names: string[]): void {
  for (const name of names) assert.ok(!reply.text.includes(name), `the answer names ${name}: ${reply.text}`);
}

async function accessToken(
  subject: string,
  role: Role,
  options: { ttlSeconds?: number; notBefore?: Date } = {},
): Promise<string> {
  const issued = await srv.frontDoor.accessTokens.issue({
    subject,
    clientId: CLI_CLIENT_ID,
    scopes: [...ROLE_SCOPES[role]],
    roles: [role],
    familyId: null,
    ttlSeconds: options.ttlSeconds ?? 900,
    ...(options.notBefore ? { notBefore: options.notBefore } : {}),
  });
  return issued.token;
}

/** The answer with what must differ between two requests (ids and fresh nonces) blanked out. */
function comparable(reply: HttpsReply): { status: number; headers: Record<string, string[]>; body: unknown } {
  const headers: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(reply.distinct)) {
    if (name === 'date' || name === 'x-request-id') continue;
    headers[name] =
      name === 'www-authenticate' ? values.map((v) => v.replace(/nonce="[^"]*"/, 'nonce="*"')) : values;
  }
  const { request_id: _id, ...body } = reply.json;
  return { status: reply.status, headers, body };
}

describe('the refusal contract', () => {
  test('credentials_missing: no Authorization header on a route that needs one', async () => {
    const reply = await whoami(undefined, nextAddress());
    assertProblem(reply, 401, 'credentials_missing');
    assertChallenges(reply, { realm: REALM });
    assert.match(String(reply.json.hint), /login|token/i);
  });

  test('scheme_unsupported: Negotiate is not a scheme this server enables', async () => {
    const reply = await whoami('Negotiate abc', nextAddress());
    assertProblem(reply, 401, 'scheme_unsupported');
    assertChallenges(reply, { realm: REALM });
    assert.match(String(reply.json.detail), /Negotiate/);
    // A CLI user sees no headers: the hint names the enabled schemes in words (issue 7).
    assert.match(String(reply.json.hint), /this server accepts Bearer, Digest or Basic/);
  });

  describe('credentials_malformed', () => {
    test('Basic credentials that are not base64', async () => {
      const reply = await whoami('Basic abc', nextAddress());
      assertProblem(reply, 401, 'credentials_malformed');
      assertChallenges(reply, { realm: REALM });
      assert.match(String(reply.json.detail), /base64/);
    });

    test('a Digest response without uri, nonce, cnonce, nc, qop and response', async () => {
      const reply = await whoami(`Digest username="${OPERATOR.name}", realm="${REALM}"`, nextAddress());
      assertProblem(reply, 401, 'credentials_malformed');
      assertChallenges(reply, { realm: REALM });
      assert.match(String(reply.json.detail), /lack/);
      assertNamesNoAccount(reply, OPERATOR.name);
    });

    test('Bearer with no token: the Bearer challenge says invalid_request', async () => {
      const reply = await whoami('Bearer', nextAddress());
      assertProblem(reply, 401, 'credentials_malformed');
      assertChallenges(reply, { realm: REALM, bearerError: 'invalid_request' });
    });
  });

  test('credentials_invalid: unknown user and wrong password get the same answer', async () => {
    const address = nextAddress();
    const unknown = await whoami(basicAuthorization(UNKNOWN_USER, WRONG_PASSWORD), address);
    const wrong = await whoami(basicAuthorization(OPERATOR.name, WRONG_PASSWORD), address);
    for (const reply of [unknown, wrong]) {
      assertProblem(reply, 401, 'credentials_invalid');
      assertChallenges(reply, { realm: REALM });
      assertNamesNoAccount(reply, UNKNOWN_USER, OPERATOR.name);
    }
    assert.notEqual(unknown.json.request_id, wrong.json.request_id);
    assert.deepEqual(comparable(unknown), comparable(wrong));
  });

  test('credentials_invalid: the same for a Digest response from an unknown user or with a wrong password', async () => {
    const address = nextAddress();
    const first = await whoami(undefined, address);
    const fresh = assertChallenges(first, { realm: REALM });
    const request = { method: 'GET', uri: WHOAMI };
    const unknown = await whoami(
      answerDigest(fresh, { user: UNKNOWN_USER, password: WRONG_PASSWORD }, request).header,
      address,
    );
    const wrong = await whoami(
      answerDigest(fresh, { user: OPERATOR.name, password: WRONG_PASSWORD }, request).header,
      address,
    );
    for (const reply of [unknown, wrong]) {
      assertProblem(reply, 401, 'credentials_invalid');
      assertChallenges(reply, { realm: REALM });
      assertNamesNoAccount(reply, UNKNOWN_USER, OPERATOR.name);
    }
    assert.deepEqual(comparable(unknown), comparable(wrong));
  });

  test('account_disabled: only after the right password; a wrong one still says credentials_invalid', async () => {
    const address = nextAddress();
    const right = await whoami(basicAuthorization(DISABLED.name, DISABLED.password), address);
    assertProblem(right, 401, 'account_disabled');
    assertChallenges(right, { realm: REALM });
    assert.match(String(right.json.hint), /administrator/);

    const wrong = await whoami(basicAuthorization(DISABLED.name, WRONG_PASSWORD), address);
    assertProblem(wrong, 401, 'credentials_invalid');
    assertNamesNoAccount(wrong, DISABLED.name);
  });

  test('nonce_stale: a right response to an expired nonce is told stale=true, and the new nonce works', async () => {
    const address = nextAddress();
    const request = { method: 'GET', uri: WHOAMI };
    const fresh = assertChallenges(await whoami(undefined, address), { realm: REALM });
    const answer = answerDigest(fresh, asUser(OPERATOR), request);

    clock.advance(srv.instance.config().auth.nonce_lifetime_seconds + 1);
    const stale = await whoami(answer.header, address);
    assertProblem(stale, 401, 'nonce_stale');
    const renewed = assertChallenges(stale, { realm: REALM, stale: true });
    assert.notEqual(renewed.params.get('nonce'), fresh.params.get('nonce'));

    const retry = await whoami(answerDigest(renewed, asUser(OPERATOR), request).header, address);
    assert.equal(retry.status, 200, retry.text);
    assert.equal(retry.json.name, OPERATOR.name);
  });

  test('a digest success carries Authentication-Info with the rspauth only the right H(A1) gives', async () => {
    const address = nextAddress();
    const request = { method: 'GET', uri: WHOAMI };
    const fresh = assertChallenges(await whoami(undefined, address), { realm: REALM });
    const answer = answerDigest(fresh, asUser(OPERATOR), request);
    const reply = await whoami(answer.header, address);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.method, 'digest');
    const info = reply.distinct['authentication-info'];
    assert.equal(info?.length, 1, 'one Authentication-Info field');
    const fields = parseAuthParams(info?.[0] ?? '');
    const rspauth = expectedRspauth(asUser(OPERATOR), {
      realm: REALM,
      nonce: fresh.params.get('nonce') ?? '',
      uri: WHOAMI,
      cnonce: answer.cnonce,
      nc: answer.nc,
    });
    assert.equal(fields.get('rspauth'), rspauth);
    assert.equal(fields.get('qop'), 'auth');
    assert.equal(fields.get('cnonce'), answer.cnonce);
    assert.equal(fields.get('nc'), answer.nc);

    // The same nonce count again is a replay (RFC 7616 §3.4): refused with stale=true.
    const replay = await whoami(answer.header, address);
    assertProblem(replay, 401, 'nonce_stale');
    assertChallenges(replay, { realm: REALM, stale: true });
  });

  test('token_expired: an access token past exp; the hint says to refresh', async () => {
    const token = await accessToken(OPERATOR.name, 'operator', { ttlSeconds: 900 });
    const address = nextAddress();
    assert.equal((await whoami(`Bearer ${token}`, address)).status, 200);
    clock.advance(901);
    const reply = await whoami(`Bearer ${token}`, address);
    assertProblem(reply, 401, 'token_expired');
    assertChallenges(reply, { realm: REALM, bearerError: 'invalid_token' });
    assert.match(String(reply.json.hint), /refresh/);
    assert.match(String(reply.json.detail), /expired/);
  });

  test('token_not_yet_valid: an access token whose nbf is an hour ahead; the hint says to check the clock', async () => {
    const notBefore = new Date(clock.now().getTime() + 3600_000);
    const token = await accessToken(OPERATOR.name, 'operator', { ttlSeconds: 7200, notBefore });
    const reply = await whoami(`Bearer ${token}`, nextAddress());
    assertProblem(reply, 401, 'token_not_yet_valid');
    assertChallenges(reply, { realm: REALM, bearerError: 'invalid_token' });
    assert.match(String(reply.json.hint), /clock/);
  });

  describe('token_revoked', () => {
    test('an access token revoked at /oauth/revoke (RFC 7009)', async () => {
      const token = await accessToken(OPERATOR.name, 'operator');
      const address = nextAddress();
      assert.equal((await whoami(`Bearer ${token}`, address)).status, 200);
      const revoked = await postForm(
        `${srv.url}/oauth/revoke`,
        srv.caPem,
        { token },
        { localAddress: address },
      );
      assert.equal(revoked.status, 200, revoked.text);
      const reply = await whoami(`Bearer ${token}`, address);
      assertProblem(reply, 401, 'token_revoked');
      assertChallenges(reply, { realm: REALM, bearerError: 'invalid_token' });
    });

    test('an API token revoked in the store', async () => {
      const { token, record } = await srv.frontDoor.opaqueTokens.create({
        kind: 'api',
        owner: OPERATOR.name,
        scopes: ['requests:read'],
      });
      const address = nextAddress();
      assert.equal((await whoami(`Bearer ${token}`, address)).status, 200);
      await srv.instance.store.revokeToken(record.id, clock.now());
      const reply = await whoami(`Bearer ${token}`, address);
      assertProblem(reply, 401, 'token_revoked');
      assertChallenges(reply, { realm: REALM, bearerError: 'invalid_token' });
    });
  });

  describe('token_invalid', () => {
    test('a JWT whose signature was tampered with', async () => {
      const token = await accessToken(OPERATOR.name, 'operator');
      const [header, payload, signature = ''] = token.split('.');
      const middle = Math.floor(signature.length / 2);
      const flipped = signature[middle] === 'A' ? 'B' : 'A';
      const tampered = `${header}.${payload}.${signature.slice(0, middle)}${flipped}${signature.slice(middle + 1)}`;
      const reply = await whoami(`Bearer ${tampered}`, nextAddress());
      assertProblem(reply, 401, 'token_invalid');
      assertChallenges(reply, { realm: REALM, bearerError: 'invalid_token' });
    });

    test('a JWT whose claims were changed (the role raised to admin)', async () => {
      const token = await accessToken(OPERATOR.name, 'operator');
      const [header, payload = '', signature] = token.split('.');
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
        string,
        unknown
      >;
      const raised = Buffer.from(JSON.stringify({ ...claims, roles: ['admin'] })).toString('base64url');
      const reply = await whoami(`Bearer ${header}.${raised}.${signature}`, nextAddress());
      assertProblem(reply, 401, 'token_invalid');
      assertChallenges(reply, { realm: REALM, bearerError: 'invalid_token' });
    });

    test('an API token this server never made', async () => {
      const reply = await whoami(`Bearer ${newSecretToken(API_TOKEN_PREFIX)}`, nextAddress());
      assertProblem(reply, 401, 'token_invalid');
      assertChallenges(reply, { realm: REALM, bearerError: 'invalid_token' });
    });
  });

  test('insufficient_scope: an API token without certificates:read, at GET /v1/certificates', async () => {
    const { token } = await srv.frontDoor.opaqueTokens.create({
      kind: 'api',
      owner: OPERATOR.name,
      scopes: ['requests:read'],
    });
    const reply = await get('/v1/certificates', { authorization: `Bearer ${token}` }, nextAddress());
    assertProblem(reply, 403, 'insufficient_scope');
    assert.equal(reply.json.scope, 'certificates:read');
    const bearer = challenge(reply, 'Bearer');
    assert.equal(bearer.params.get('realm'), REALM);
    assert.equal(bearer.params.get('error'), 'insufficient_scope');
    assert.equal(bearer.params.get('scope'), 'certificates:read');
    assert.match(String(reply.json.hint), /certificates:read/);
  });

  test('forbidden: an auditor (Basic) may not approve requests', async () => {
    const reply = await send(`${srv.url}/v1/requests/x/approve`, {
      ca: srv.caPem,
      method: 'POST',
      headers: { authorization: basicAuthorization(AUDITOR.name, AUDITOR.password) },
      localAddress: nextAddress(),
    });
    assertProblem(reply, 403, 'forbidden');
    assert.equal(reply.json.scope, 'requests:approve');
    assert.equal(
      reply.distinct['www-authenticate'],
      undefined,
      'no challenge: other credentials would not help',
    );
  });

  test('too_many_attempts: wrong passwords until 429, while the same user from another address gets in', async () => {
    const attacker = nextAddress();
    const limit = srv.instance.config().auth.throttle_free_failures;
    let reply: HttpsReply | undefined;
    let attempts = 0;
    for (; attempts < limit + 5; attempts++) {
      reply = await whoami(basicAuthorization(OPERATOR.name, `${WRONG_PASSWORD}${attempts}`), attacker);
      if (reply.status !== 401) break;
      assertProblem(reply, 401, 'credentials_invalid');
    }
    assert.ok(reply);
    assert.equal(attempts, limit, `429 after ${limit} free failures`);
    assertProblem(reply, 429, 'too_many_attempts');
    const retryAfter = Number(reply.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0, `Retry-After: ${reply.headers['retry-after']}`);
    assert.match(String(reply.json.hint), /Retry-After|wait/);
    assertNamesNoAccount(reply, OPERATOR.name);

    // The right password from the throttled address waits too: the throttle answers before checking.
    const sameAddress = await whoami(basicAuthorization(OPERATOR.name, OPERATOR.password), attacker);
    assertProblem(sameAddress, 429, 'too_many_attempts');

    const legitimate = await whoami(basicAuthorization(OPERATOR.name, OPERATOR.password), nextAddress());
    assert.equal(legitimate.status, 200, legitimate.text);
    assert.equal(legitimate.json.name, OPERATOR.name);

    clock.advance(retryAfter);
    const later = await whoami(basicAuthorization(OPERATOR.name, OPERATOR.password), attacker);
    assert.equal(later.status, 200, `after Retry-After the right password works: ${later.text}`);
  });
});

describe('token responses and token lifetimes', () => {
  test('/oauth/token answers carry Cache-Control: no-store, granted or refused', async () => {
    const address = nextAddress();
    const granted = await postForm(
      `${srv.url}/oauth/token`,
      srv.caPem,
      {
        grant_type: 'password',
        username: OPERATOR.name,
        password: OPERATOR.password,
        client_id: CLI_CLIENT_ID,
      },
      { localAddress: address },
    );
    assert.equal(granted.status, 200, granted.text);
    assert.equal(typeof granted.json.access_token, 'string');
    assert.equal(granted.headers['cache-control'], 'no-store');

    const refused = await postForm(
      `${srv.url}/oauth/token`,
      srv.caPem,
      { grant_type: 'password', username: OPERATOR.name, password: WRONG_PASSWORD, client_id: CLI_CLIENT_ID },
      { localAddress: address },
    );
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.json.error, 'invalid_grant');
    assert.equal(refused.headers['cache-control'], 'no-store');
    assert.equal(refused.json.request_id, refused.headers['x-request-id']);
  });

  test('Certmaster-Token-Expires-In appears in the last fifth of an access token life, not before', async () => {
    const ttl = 1000;
    const token = await accessToken(OPERATOR.name, 'operator', { ttlSeconds: ttl });
    const address = nextAddress();
    const header = async () => {
      const reply = await whoami(`Bearer ${token}`, address);
      assert.equal(reply.status, 200, reply.text);
      return reply.headers['certmaster-token-expires-in'];
    };
    assert.equal(await header(), undefined, 'a fresh token');
    clock.advance(ttl * 0.8 - 10);
    assert.equal(await header(), undefined, 'still more than a fifth left');
    clock.advance(20);
    assert.equal(await header(), String(ttl / 5 - 10), 'seconds left, once in the last fifth');
    clock.advance(ttl / 5 - 11);
    assert.equal(await header(), '1');
  });

  test('an access token sent with the password grant acts for its account', async () => {
    const address = nextAddress();
    const granted = await postForm(
      `${srv.url}/oauth/token`,
      srv.caPem,
      {
        grant_type: 'password',
        username: OPERATOR.name,
        password: OPERATOR.password,
        client_id: CLI_CLIENT_ID,
      },
      { localAddress: address },
    );
    const reply = await whoami(`Bearer ${String(granted.json.access_token)}`, address);
    assert.equal(reply.status, 200, reply.text);
    assert.equal(reply.json.name, OPERATOR.name);
    assert.deepEqual(reply.json.scopes, operatorScopes);
  });
});
