/**
 * API tokens ("cmat_") and enrollment tokens ("cmet_") over a real store: recognisable, stored
 * hashed, never more powerful than their owner, and counted when they enroll.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { AuthFailure } from '../../../src/auth/failure.js';
import { OpaqueTokens, TokenRequestError } from '../../../src/auth/tokens/opaque-tokens.js';
import { EnrollmentTokenEnroller } from '../../../src/ra/enrollers/enrollment-token.js';
import { type CertmasterStore, openStore } from '../../../src/store/open.js';
import type { Role } from '../../../src/types.js';
import { MovableClock } from '../../helpers/clock.js';

/** The tokens never look at the password; any PHC string will do. */
const SOME_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$c29tZWhhc2hzb21laGFzaHNvbWVoYXNoc29tZWhhc2g';
const dir = mkdtempSync(join(tmpdir(), 'certmaster-opaque-'));
let store: CertmasterStore;
let clock: MovableClock;
let tokens: OpaqueTokens;
let count = 0;

async function addUser(name: string, role: Role, namePatterns: string[] = []): Promise<void> {
  const now = clock.now();
  await store.createUser({
    name,
    role,
    passwordHash: SOME_HASH,
    digestSecrets: null,
    disabled: false,
    namePatterns,
    createdAt: now,
    updatedAt: now,
    passwordChangedAt: now,
  });
}

async function refusal(token: string): Promise<AuthFailure> {
  try {
    await tokens.authenticate(token);
  } catch (error) {
    assert.ok(error instanceof AuthFailure, String(error));
    assert.equal(error.scheme, 'bearer');
    assert.ok(error.hint.length > 10);
    return error;
  }
  assert.fail('the token was accepted');
}

beforeEach(async () => {
  count += 1;
  store = await openStore(`sqlite:${join(dir, `opaque-${count}.db`)}`);
  clock = new MovableClock(Date.UTC(2030, 0, 1, 12));
  tokens = new OpaqueTokens({ store, clock });
  await addUser('olga', 'operator');
  await addUser('web01', 'host', ['web01.example.com']);
});
afterEach(async () => store.close());
after(() => rmSync(dir, { recursive: true, force: true }));

describe('API tokens', () => {
  test('are cmat_ secrets stored as SHA-256 and act as their owner with the scopes given', async () => {
    const { token, record } = await tokens.create({
      kind: 'api',
      owner: 'olga',
      scopes: ['requests:read', 'certificates:read'],
      ttlSeconds: 3600,
      description: 'dashboard',
    });
    assert.match(token, /^cmat_[A-Za-z0-9_-]{43}$/);
    assert.match(record.id, /^tok_[a-z2-7]{10}$/);
    assert.equal(record.secretHash, createHash('sha256').update(token).digest('hex'));
    assert.equal((await store.getToken(record.id))?.secretHash, record.secretHash);

    const principal = await tokens.authenticate(token);
    assert.equal(principal.name, 'olga');
    assert.equal(principal.method, 'api_token');
    assert.deepEqual(principal.roles, ['operator']);
    assert.deepEqual(principal.scopes, ['requests:read', 'certificates:read']);
    assert.deepEqual(principal.token, { id: record.id, issuedAt: clock.now(), expiresAt: record.expiresAt });
    assert.equal((await store.getToken(record.id))?.lastUsedAt?.getTime(), clock.now().getTime());
    assert.deepEqual(await tokens.verify(token), principal);
  });

  test('never grant more than the owner role allows today', async () => {
    const { token } = await tokens.create({
      kind: 'api',
      owner: 'olga',
      scopes: ['requests:approve', 'certificates:read'],
    });
    await store.updateUser('olga', { role: 'auditor' }, clock.now());
    const principal = await tokens.authenticate(token);
    assert.deepEqual(principal.roles, ['auditor']);
    assert.deepEqual(principal.scopes, ['certificates:read']);
  });

  test('a host account token carries the host name patterns', async () => {
    const { token } = await tokens.create({ kind: 'api', owner: 'web01', scopes: ['requests:submit'] });
    assert.deepEqual((await tokens.authenticate(token)).namePatterns, ['web01.example.com']);
  });

  test('refusals: unknown, revoked, expired, disabled owner, removed owner', async () => {
    assert.equal((await refusal(`cmat_${'A'.repeat(43)}`)).reason, 'token_invalid');
    assert.equal((await refusal('cmat_short')).reason, 'token_invalid');
    assert.equal((await refusal('')).reason, 'token_invalid');

    const revoked = await tokens.create({ kind: 'api', owner: 'olga', scopes: ['requests:read'] });
    await store.revokeToken(revoked.record.id, clock.now());
    const revokedFailure = await refusal(revoked.token);
    assert.equal(revokedFailure.reason, 'token_revoked');
    assert.match(revokedFailure.internalCause, new RegExp(revoked.record.id));

    const expiring = await tokens.create({
      kind: 'api',
      owner: 'olga',
      scopes: ['requests:read'],
      ttlSeconds: 60,
    });
    clock.advance(59);
    await tokens.authenticate(expiring.token);
    clock.advance(1);
    assert.equal((await refusal(expiring.token)).reason, 'token_expired');

    const owned = await tokens.create({ kind: 'api', owner: 'olga', scopes: ['requests:read'] });
    await store.updateUser('olga', { disabled: true }, clock.now());
    assert.equal((await refusal(owned.token)).reason, 'account_disabled');
    // Removing the account revokes its tokens (the store does it; the token layer checks it too).
    await store.removeUser('olga');
    assert.equal((await refusal(owned.token)).reason, 'token_revoked');
  });

  test('the same secret under the other prefix is not the token', async () => {
    const { token } = await tokens.create({ kind: 'api', owner: 'olga', scopes: ['requests:read'] });
    assert.equal((await refusal(`cmet_${token.slice(5)}`)).reason, 'token_invalid');
  });

  test('creation refuses unknown scopes, scopes beyond the role, unknown owners and stray fields', async () => {
    const refused = async (request: Parameters<OpaqueTokens['create']>[0], message: RegExp) =>
      assert.rejects(tokens.create(request), (error: unknown) => {
        assert.ok(error instanceof TokenRequestError);
        assert.match(error.message, message);
        return true;
      });
    await refused({ kind: 'api', owner: 'olga', scopes: ['root'] }, /unknown scopes: root/);
    await refused(
      { kind: 'api', owner: 'olga', scopes: ['users:manage'] },
      /operator role of olga does not grant/,
    );
    await refused({ kind: 'api', owner: 'nobody', scopes: ['requests:read'] }, /no account nobody/);
    await refused({ kind: 'api', owner: 'olga', scopes: [] }, /at least one scope/);
    await refused({ kind: 'api', owner: 'olga', scopes: ['requests:read'], uses: 3 }, /enrollment tokens/);
    await refused({ kind: 'api', owner: 'olga', scopes: ['requests:read'], ttlSeconds: 0 }, /lifetime/);
    await refused(
      { kind: 'api', owner: 'olga', scopes: ['requests:read'], description: 'a\nb' },
      /control characters/,
    );
    assert.deepEqual(await store.listTokens({ includeRevoked: true }), []);
  });
});

describe('enrollment tokens', () => {
  test('enroll one name pattern, a limited number of times', async () => {
    const { token, record } = await tokens.create({
      kind: 'enrollment',
      owner: 'olga',
      namePattern: '*.web.example.com',
      uses: 2,
      ttlSeconds: 3600,
    });
    assert.match(token, /^cmet_[A-Za-z0-9_-]{43}$/);
    const principal = await tokens.authenticate(token);
    assert.equal(principal.name, `enrollment:${record.id}`);
    assert.equal(principal.method, 'enrollment_token');
    assert.deepEqual(principal.roles, []);
    assert.deepEqual(principal.scopes, ['requests:submit']);
    assert.deepEqual(principal.namePatterns, ['*.web.example.com']);

    // The RA's enrollment-token enroller spends a use per issuance (src/ra/enrollers/enrollment-token.ts).
    const enroller = new EnrollmentTokenEnroller(store, clock);
    await enroller.onIssued(principal);
    await enroller.onIssued(principal);
    await assert.rejects(enroller.onIssued(principal), { reason: 'enrollment_token_used_up' });
    const usedUp = await refusal(token);
    // Its own reason, not token_revoked: nobody revoked it (issue 7).
    assert.equal(usedUp.reason, 'enrollment_token_used_up');
    assert.match(usedUp.detail, /no uses left/);
  });

  test('an enrollment token without a use limit is never used up', async () => {
    const { token } = await tokens.create({
      kind: 'enrollment',
      owner: 'olga',
      namePattern: 'db1.example.com',
    });
    const principal = await tokens.authenticate(token);
    const enroller = new EnrollmentTokenEnroller(store, clock);
    for (let i = 0; i < 5; i++) await enroller.onIssued(principal);
    await tokens.authenticate(token);
  });

  test('creation refuses bad patterns and uses', async () => {
    for (const namePattern of ['', 'all', 'off', 'a.example.com,b.example.com', 'bad..name', null]) {
      await assert.rejects(
        tokens.create({ kind: 'enrollment', owner: 'olga', namePattern }),
        TokenRequestError,
        String(namePattern),
      );
    }
    for (const uses of [0, -1, 1.5]) {
      await assert.rejects(
        tokens.create({ kind: 'enrollment', owner: 'olga', namePattern: 'a.example.com', uses }),
        /uses must be/,
      );
    }
  });
});
