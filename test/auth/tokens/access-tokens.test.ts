/**
 * JWT access tokens (RFC 9068) verified as RFC 8725 asks, with time moved by an injected clock:
 * every way a token can be wrong maps to its reason code, and a resource server elsewhere can
 * verify one with nothing but the published JWKS.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
import { AuthFailure } from '../../../src/auth/failure.js';
import { SecretBox } from '../../../src/auth/secret-box.js';
import { AccessTokens, describeSeconds } from '../../../src/auth/tokens/access-tokens.js';
import { SigningKeyRing } from '../../../src/auth/tokens/keyring.js';
import { type CertmasterStore, openStore } from '../../../src/store/open.js';
import { MovableClock } from '../../helpers/clock.js';

const ISSUER = 'https://ca.example.test:8443';
const TTL = 600;
const dir = mkdtempSync(join(tmpdir(), 'certmaster-access-'));
const box = new SecretBox(randomBytes(32));
let store: CertmasterStore;
let clock: MovableClock;
let ring: SigningKeyRing;
let tokens: AccessTokens;
let count = 0;

beforeEach(async () => {
  count += 1;
  store = await openStore(`sqlite:${join(dir, `access-${count}.db`)}`);
  clock = new MovableClock(Date.UTC(2030, 0, 1, 12));
  ring = new SigningKeyRing(store, box, clock);
  await ring.init();
  tokens = new AccessTokens({ keyring: ring, store, clock, issuer: ISSUER });
});
afterEach(async () => store.close());
after(() => rmSync(dir, { recursive: true, force: true }));

function issueFor(subject = 'alice', familyId: string | null = 'rtf_abc_aaaaaaaaaaaaaaaa') {
  return tokens.issue({
    subject,
    clientId: 'certmaster-cli',
    scopes: ['requests:read', 'certificates:read'],
    roles: ['operator'],
    familyId,
    ttlSeconds: TTL,
  });
}

async function refusal(token: string): Promise<AuthFailure> {
  try {
    await tokens.verify(token);
  } catch (error) {
    assert.ok(error instanceof AuthFailure, String(error));
    assert.equal(error.scheme, 'bearer');
    return error;
  }
  assert.fail('the token was accepted');
}

/** Signs arbitrary claims and header with the ring's current key, as a buggy or hostile issuer might. */
async function signWith(header: Record<string, unknown>, claims: Record<string, unknown>): Promise<string> {
  const { kid, privateKey } = ring.signingKey();
  return new SignJWT(claims).setProtectedHeader({ alg: 'EdDSA', kid, ...header }).sign(privateKey);
}

function validClaims(): Record<string, unknown> {
  const now = Math.floor(clock.now().getTime() / 1000);
  return {
    iss: ISSUER,
    aud: 'certmaster',
    sub: 'alice',
    client_id: 'certmaster-cli',
    scope: 'requests:read',
    roles: ['operator'],
    iat: now,
    exp: now + TTL,
    jti: 'j1',
  };
}

describe('AccessTokens', () => {
  test('an issued token verifies to the principal it was issued for', async () => {
    const issued = await issueFor();
    const header = decodeProtectedHeader(issued.token);
    assert.deepEqual(header, { alg: 'EdDSA', kid: ring.signingKey().kid, typ: 'at+jwt' });
    const principal = await tokens.verify(issued.token);
    assert.equal(principal.name, 'alice');
    assert.equal(principal.anonymous, false);
    assert.equal(principal.method, 'access_token');
    assert.deepEqual(principal.roles, ['operator']);
    assert.deepEqual(principal.scopes, ['requests:read', 'certificates:read']);
    // The sign-in (refresh family) rides along: an API token made with it belongs to it (issue 8 item 5).
    assert.deepEqual(principal.token, {
      id: issued.jti,
      issuedAt: clock.now(),
      expiresAt: issued.expiresAt,
      familyId: 'rtf_abc_aaaaaaaaaaaaaaaa',
    });
    assert.equal(issued.expiresAt.getTime() - clock.now().getTime(), TTL * 1000);
    assert.match(issued.jti, /^[A-Za-z0-9_-]{22}$/);
    const claims = await tokens.check(issued.token);
    assert.equal(claims.iss, ISSUER);
    assert.equal(claims.aud, 'certmaster');
    assert.equal(claims.sid, 'rtf_abc_aaaaaaaaaaaaaaaa');
    assert.equal(claims.nbf, undefined);
  });

  test('a token is valid until the second before exp and expired from exp on', async () => {
    const issued = await issueFor();
    clock.advance(TTL - 1);
    assert.equal((await tokens.verify(issued.token)).name, 'alice');
    clock.advance(1);
    const atExp = await refusal(issued.token);
    assert.equal(atExp.reason, 'token_expired');
    clock.advance(299);
    const failure = await refusal(issued.token);
    assert.equal(failure.reason, 'token_expired');
    assert.match(failure.detail, /expired 4 minutes ago \(at 2030-01-01T12:10:00\.000Z\)/);
    assert.match(failure.hint, /grant_type=refresh_token/);
    assert.match(failure.hint, /certmaster login/);
    assert.equal(failure.claimedName, 'alice');
  });

  test('a token verified (and remembered) before it was revoked is refused after', async () => {
    const issued = await issueFor();
    assert.equal((await tokens.verify(issued.token)).name, 'alice');
    await store.revokeAccessToken(issued.jti, issued.expiresAt, clock.now());
    assert.equal((await refusal(issued.token)).reason, 'token_revoked');
    const tampered = `${issued.token.slice(0, -2)}${issued.token.endsWith('AA') ? 'BB' : 'AA'}`;
    assert.equal((await refusal(tampered)).reason, 'token_invalid', 'the cache is keyed by the whole token');
  });

  test('a token whose nbf is ahead of the clock is not yet valid, and says by how much', async () => {
    const issued = await tokens.issue({
      subject: 'alice',
      clientId: 'certmaster-cli',
      scopes: [],
      roles: ['operator'],
      familyId: null,
      ttlSeconds: TTL,
      notBefore: new Date(clock.now().getTime() + 90_000),
    });
    const failure = await refusal(issued.token);
    assert.equal(failure.reason, 'token_not_yet_valid');
    assert.match(failure.detail, /another 90 seconds/);
    assert.match(failure.hint, /clock/);
    assert.match(failure.hint, /90 seconds/);
    clock.advance(90);
    assert.equal((await tokens.verify(issued.token)).name, 'alice');
  });

  test('a tampered signature or payload is token_invalid', async () => {
    const { token } = await issueFor();
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const flipped = Buffer.from(signature, 'base64url');
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    const badSignature = await refusal(`${header}.${payload}.${flipped.toString('base64url')}`);
    assert.equal(badSignature.reason, 'token_invalid');
    assert.match(badSignature.detail, /signature/);

    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    claims.scope = 'users:manage tokens:manage';
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    assert.equal((await refusal(forged)).reason, 'token_invalid');
  });

  test('wrong issuer, audience, typ, algorithm, kid or shape are token_invalid', async () => {
    const cases: Array<[string, Promise<string>]> = [
      ['issuer', signWith({ typ: 'at+jwt' }, { ...validClaims(), iss: 'https://evil.example' })],
      ['audience', signWith({ typ: 'at+jwt' }, { ...validClaims(), aud: 'someone-else' })],
      ['typ JWT', signWith({ typ: 'JWT' }, validClaims())],
      ['no typ', signWith({}, validClaims())],
      ['unknown kid', signWith({ typ: 'at+jwt', kid: 'not-a-kid' }, validClaims())],
      ['roles not roles', signWith({ typ: 'at+jwt' }, { ...validClaims(), roles: ['root'] })],
      ['no client_id', signWith({ typ: 'at+jwt' }, { ...validClaims(), client_id: undefined })],
      ['no jti', signWith({ typ: 'at+jwt' }, { ...validClaims(), jti: undefined })],
      [
        'HS256 keyed with the public key',
        new SignJWT(validClaims())
          .setProtectedHeader({ alg: 'HS256', kid: ring.signingKey().kid, typ: 'at+jwt' })
          .sign(Buffer.from(ring.jwks().keys[0]?.x ?? '', 'base64url')),
      ],
      ['not a JWT', Promise.resolve('cmat_definitely-not-a-jwt')],
      ['empty', Promise.resolve('')],
      ['huge', Promise.resolve('a'.repeat(20_000))],
    ];
    for (const [name, token] of cases) {
      const failure = await refusal(await token);
      assert.equal(failure.reason, 'token_invalid', name);
      assert.ok(failure.hint.length > 10, name);
    }
  });

  test('a token signed by another server (another key ring) is token_invalid', async () => {
    const otherStore = await openStore(`sqlite:${join(dir, `other-${count}.db`)}`);
    try {
      const otherRing = new SigningKeyRing(otherStore, box, clock);
      await otherRing.init();
      const other = new AccessTokens({ keyring: otherRing, store: otherStore, clock, issuer: ISSUER });
      const { token } = await other.issue({
        subject: 'alice',
        clientId: 'certmaster-cli',
        scopes: [],
        roles: ['admin'],
        familyId: null,
        ttlSeconds: TTL,
      });
      const failure = await refusal(token);
      assert.equal(failure.reason, 'token_invalid');
      assert.match(failure.internalCause, /unknown or removed signing key/);
    } finally {
      await otherStore.close();
    }
  });

  test('a denylisted jti and a revoked refresh family are token_revoked', async () => {
    const one = await issueFor('alice', null);
    await store.revokeAccessToken(one.jti, one.expiresAt, clock.now());
    const failure = await refusal(one.token);
    assert.equal(failure.reason, 'token_revoked');
    assert.match(failure.internalCause, new RegExp(`jti ${one.jti}`));
    assert.match(failure.internalCause, /2030-01-01T12:00:00\.000Z/);

    const family = 'rtf_family_bbbbbbbbbbbbbbbb';
    const two = await issueFor('bob', family);
    assert.equal((await tokens.verify(two.token)).name, 'bob');
    await store.revokeRefreshFamily(family, clock.now());
    const familyFailure = await refusal(two.token);
    assert.equal(familyFailure.reason, 'token_revoked');
    assert.match(familyFailure.internalCause, new RegExp(family));
    // Signature checks still pass: revocation needs them (RFC 7009) without the denylist.
    assert.equal((await tokens.verifySignedClaims(two.token)).sub, 'bob');
  });

  test('after rotation old tokens verify until they expire, and new tokens carry the new kid', async () => {
    const before = await issueFor();
    const oldKid = decodeProtectedHeader(before.token).kid;
    const newKid = await ring.rotate(TTL);
    const afterRotation = await issueFor('bob');
    assert.equal(decodeProtectedHeader(afterRotation.token).kid, newKid);
    assert.notEqual(newKid, oldKid);
    assert.equal((await tokens.verify(before.token)).name, 'alice');
    assert.equal((await tokens.verify(afterRotation.token)).name, 'bob');
    assert.deepEqual(
      ring
        .jwks()
        .keys.map((k) => k.kid)
        .sort(),
      [newKid, oldKid].sort(),
    );
  });

  test('a resource server elsewhere verifies a token with nothing but the published JWKS', async () => {
    const { token } = await issueFor();
    await ring.rotate(TTL);
    const fresh = await issueFor('bob');
    // What another service does: fetch /.well-known/jwks.json (here: the same JSON) and verify.
    const published = JSON.parse(JSON.stringify(ring.jwks()));
    const jwks = createLocalJWKSet(published);
    for (const [jwt, sub] of [
      [token, 'alice'],
      [fresh.token, 'bob'],
    ] as const) {
      const { payload, protectedHeader } = await jwtVerify(jwt, jwks, {
        algorithms: ['EdDSA'],
        typ: 'at+jwt',
        issuer: ISSUER,
        audience: 'certmaster',
        currentDate: clock.now(),
      });
      assert.equal(payload.sub, sub);
      assert.equal(protectedHeader.typ, 'at+jwt');
    }
  });

  test('describeSeconds reads well at every scale', () => {
    assert.equal(describeSeconds(1), '1 second');
    assert.equal(describeSeconds(90), '90 seconds');
    assert.equal(describeSeconds(300), '5 minutes');
    assert.equal(describeSeconds(3 * 3600 + 600), '3 hours');
    assert.equal(describeSeconds(2 * 86400 + 4 * 3600), '2 days');
    assert.equal(describeSeconds(-5), '5 seconds', 'callers say ago or in; the sign is theirs');
    assert.equal(describeSeconds(Number.NaN), 'moments');
  });
});
