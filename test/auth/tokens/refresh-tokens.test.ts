/**
 * Refresh token rotation and reuse detection (RFC 9700 §4.14.2) over a real store, with time moved
 * by an injected clock.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { SecretBox } from '../../../src/auth/secret-box.js';
import { AccessTokens } from '../../../src/auth/tokens/access-tokens.js';
import { SigningKeyRing } from '../../../src/auth/tokens/keyring.js';
import { OAuthError } from '../../../src/auth/tokens/oauth-error.js';
import { RefreshTokens } from '../../../src/auth/tokens/refresh-tokens.js';
import { type CertmasterStore, openStore } from '../../../src/store/open.js';
import { MovableClock } from '../../helpers/clock.js';

const DAY = 86400;
const CLI = 'certmaster-cli';
const dir = mkdtempSync(join(tmpdir(), 'certmaster-refresh-'));
let store: CertmasterStore;
let clock: MovableClock;
let refresh: RefreshTokens;
let count = 0;

beforeEach(async () => {
  count += 1;
  store = await openStore(`sqlite:${join(dir, `refresh-${count}.db`)}`);
  clock = new MovableClock(Date.UTC(2030, 0, 1, 12));
  refresh = new RefreshTokens({ store, clock, ttlSeconds: 14 * DAY, familyLifetimeSeconds: 30 * DAY });
});
afterEach(async () => store.close());
after(() => rmSync(dir, { recursive: true, force: true }));

async function grantError(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OAuthError, String(error));
    assert.equal(error.error, 'invalid_grant');
    return error;
  }
  assert.fail('the refresh token was accepted');
}

const signIn = () => refresh.issue({ subject: 'alice', clientId: CLI, scopes: ['requests:read'] });

describe('RefreshTokens', () => {
  test('a token is cmrt_ and 256 random bits, and the store keeps only its SHA-256', async () => {
    const { token, record } = await signIn();
    assert.match(token, /^cmrt_[A-Za-z0-9_-]{43}$/);
    assert.equal(record.secretHash, createHash('sha256').update(token).digest('hex'));
    assert.match(record.familyId, /^rtf_[0-9a-z]+_[a-z2-7]{16}$/);
    assert.equal(record.expiresAt.getTime() - clock.now().getTime(), 14 * DAY * 1000);
    const stored = await store.findRefreshTokenBySecretHash(record.secretHash);
    assert.equal(stored?.id, record.id);
    assert.ok(!JSON.stringify(stored).includes(token));
  });

  test('rotation returns a new token of the same family, and the old one then fails', async () => {
    const first = await signIn();
    clock.advance(60);
    const second = await refresh.rotate(first.token, CLI);
    assert.notEqual(second.token, first.token);
    assert.equal(second.record.familyId, first.record.familyId);
    assert.deepEqual(second.record.scopes, ['requests:read']);
    assert.equal(second.record.subject, 'alice');
    assert.equal(second.previous.id, first.record.id);
    const third = await refresh.rotate(second.token, CLI);
    assert.equal(third.record.familyId, first.record.familyId);
    const failure = await grantError(refresh.rotate(first.token, CLI));
    assert.equal(failure.reason, 'token_revoked');
  });

  test('reuse of a rotated token revokes the whole family, access tokens included', async () => {
    const box = new SecretBox(randomBytes(32));
    const ring = new SigningKeyRing(store, box, clock);
    await ring.init();
    const access = new AccessTokens({ keyring: ring, store, clock, issuer: 'https://ca.example.test' });

    const stolen = await signIn();
    const legit = await refresh.rotate(stolen.token, CLI);
    const at = await access.issue({
      subject: 'alice',
      clientId: CLI,
      scopes: ['requests:read'],
      roles: ['operator'],
      familyId: legit.record.familyId,
      ttlSeconds: 600,
    });
    assert.equal((await access.verify(at.token)).name, 'alice');

    const failure = await grantError(refresh.rotate(stolen.token, CLI));
    assert.equal(failure.reason, 'token_revoked');
    assert.match(
      failure.internalCause,
      new RegExp(`^refresh token reuse detected: family ${legit.record.familyId} revoked`),
    );
    assert.match(failure.hint, /certmaster login/);
    assert.doesNotMatch(failure.description, /cmrt_/);

    // The newest token of the family dies too, and so does the access token carrying the family.
    assert.equal((await grantError(refresh.rotate(legit.token, CLI))).reason, 'token_revoked');
    await assert.rejects(access.verify(at.token), { reason: 'token_revoked' });
    // A new sign-in is a new family and is unaffected.
    const again = await signIn();
    assert.notEqual(again.record.familyId, legit.record.familyId);
    await refresh.rotate(again.token, CLI);
  });

  test('an expired token is refused, and rotation never outlives the family', async () => {
    const idle = await signIn();
    clock.advance(14 * DAY);
    assert.equal((await grantError(refresh.rotate(idle.token, CLI))).reason, 'token_expired');

    let current = await signIn();
    const start = clock.now().getTime();
    for (let day = 10; day < 30; day += 10) {
      clock.advance(10 * DAY);
      current = await refresh.rotate(current.token, CLI);
    }
    // Issued on day 20: its own 14 days would reach day 34, the family ends on day 30.
    assert.equal(current.record.expiresAt.getTime(), Math.floor(start / 1000) * 1000 + 30 * DAY * 1000);
    clock.advance(10 * DAY - 1);
    current = await refresh.rotate(current.token, CLI);
    clock.advance(1);
    const failure = await grantError(refresh.rotate(current.token, CLI));
    assert.equal(failure.reason, 'token_expired');
  });

  test('a token presented by another client is refused and stays usable by its own', async () => {
    const { token } = await signIn();
    const failure = await grantError(refresh.rotate(token, 'svc-backup'));
    assert.equal(failure.reason, 'token_invalid');
    assert.match(failure.internalCause, /of client certmaster-cli presented by client svc-backup/);
    await refresh.rotate(token, CLI);
  });

  test('a refusal by the authorize step leaves the token unspent', async () => {
    const { token } = await signIn();
    await assert.rejects(
      refresh.rotate(token, CLI, async () => {
        throw new OAuthError('invalid_scope', 'no', 'no', { code: 'scope_refused', problem: 'too_many' });
      }),
      { error: 'invalid_scope' },
    );
    const seen: string[] = [];
    const next = await refresh.rotate(token, CLI, async (record) => {
      seen.push(record.subject);
    });
    assert.deepEqual(seen, ['alice']);
    assert.equal(next.record.subject, 'alice');
  });

  test('unknown and malformed tokens are invalid_grant without touching the store', async () => {
    for (const token of [
      `cmrt_${'A'.repeat(43)}`,
      'cmrt_short',
      `cmat_${'A'.repeat(43)}`,
      '',
      'x'.repeat(10_000),
    ]) {
      assert.equal((await grantError(refresh.rotate(token, CLI))).reason, 'token_invalid');
    }
  });

  test('revokeFamily ends every token of the family; isActive and expiryOf agree', async () => {
    const first = await signIn();
    const second = await refresh.rotate(first.token, CLI);
    assert.equal(refresh.isActive(second.record), true);
    assert.equal(refresh.isActive(second.previous), false);
    assert.equal((await refresh.revokeFamily(second.record.familyId)) >= 1, true);
    const after = await refresh.find(second.token);
    assert.ok(after);
    assert.equal(refresh.isActive(after), false);
    assert.equal((await grantError(refresh.rotate(second.token, CLI))).reason, 'token_revoked');
    assert.equal(refresh.expiryOf(after).getTime(), after.expiresAt.getTime());
  });

  test('options must be positive whole numbers of seconds', () => {
    assert.throws(() => new RefreshTokens({ store, clock, ttlSeconds: 0 }), RangeError);
    assert.throws(() => new RefreshTokens({ store, clock, familyLifetimeSeconds: -1 }), RangeError);
  });
});
