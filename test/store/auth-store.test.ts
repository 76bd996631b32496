import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DuplicateError } from '../../src/store/identities/auth-store.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import {
  apiToken,
  enrollmentToken,
  oauthClient,
  refreshToken,
  signingKey,
  uniqueUserName,
  userRecord,
} from './auth-records.js';
import { allBackends } from './backends.js';
import { fixedClock, minutesAfter, NOW } from './records.js';

function isDuplicate(what: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof DuplicateError);
    assert.equal(error.what, what);
    return true;
  };
}

function secondsAfter(at: Date, seconds: number): Date {
  return new Date(at.getTime() + seconds * 1000);
}

for (const backend of allBackends()) {
  describe(`auth store on ${backend.name}`, () => {
    let url: string;
    let store: CertmasterStore;
    const reopened: CertmasterStore[] = [];

    async function reopen(): Promise<CertmasterStore> {
      const another = await openStore(url, { clock: fixedClock });
      reopened.push(another);
      return another;
    }

    before(() => backend.setUp());
    after(() => backend.tearDown());
    beforeEach(async () => {
      url = await backend.freshUrl();
      store = await openStore(url, { clock: fixedClock });
    });
    afterEach(async () => {
      await store.close();
      for (const another of reopened.splice(0)) {
        await another.close();
      }
    });

    describe('users', () => {
      it('creates, finds and lists accounts by name', async () => {
        const bob = userRecord({ name: 'bob', role: 'host', namePatterns: ['*.web.example.com'] });
        const alice = userRecord({ name: 'alice', role: 'admin', digestSecrets: 'sealed:h-a1' });
        await store.createUser(bob);
        await store.createUser(alice);
        assert.deepEqual(await store.getUser('alice'), alice);
        assert.deepEqual(await store.getUser('bob'), bob);
        assert.equal(await store.getUser('carol'), null);
        assert.deepEqual(await store.listUsers(), [alice, bob]);
      });

      it('refuses a second account of the same name with DuplicateError, keeping the first', async () => {
        const first = userRecord();
        await store.createUser(first);
        await assert.rejects(
          store.createUser(userRecord({ name: first.name, role: 'admin' })),
          isDuplicate(`user "${first.name}"`),
        );
        assert.deepEqual(await store.getUser(first.name), first);
      });

      it('refuses names Basic credentials cannot carry', async () => {
        for (const name of ['', 'ali:ce', 'a'.repeat(65), 'tab\there', 'nul\u0000']) {
          await assert.rejects(store.createUser(userRecord({ name })), TypeError);
        }
        const longest = userRecord({ name: 'é'.repeat(64) });
        await store.createUser(longest);
        assert.deepEqual(await store.getUser(longest.name), longest);
        assert.deepEqual(
          (await store.listUsers()).map((user) => user.name),
          [longest.name],
        );
      });

      it('updates only the patched fields, and updatedAt', async () => {
        const user = userRecord({ digestSecrets: 'sealed:old', namePatterns: ['a.example.com'] });
        await store.createUser(user);
        const at = minutesAfter(NOW, 5);

        const rolePatched = { ...user, role: 'admin' as const, updatedAt: at };
        assert.deepEqual(await store.updateUser(user.name, { role: 'admin' }, at), rolePatched);
        assert.deepEqual(await store.getUser(user.name), rolePatched);

        const later = minutesAfter(NOW, 9);
        const expected = {
          ...rolePatched,
          passwordHash: '$argon2id$new',
          passwordChangedAt: later,
          digestSecrets: null,
          disabled: true,
          namePatterns: ['b.example.com', 'c.example.com'],
          updatedAt: later,
        };
        assert.deepEqual(
          await store.updateUser(
            user.name,
            {
              passwordHash: '$argon2id$new',
              passwordChangedAt: later,
              digestSecrets: null,
              disabled: true,
              namePatterns: ['b.example.com', 'c.example.com'],
              role: undefined,
            },
            later,
          ),
          expected,
        );
        assert.deepEqual(await store.getUser(user.name), expected);
        assert.equal(await store.updateUser(uniqueUserName(), { disabled: true }, later), null);
      });

      it('removes an account with its API tokens and refresh families, and frees the name', async () => {
        const user = userRecord();
        await store.createUser(user);
        const api = apiToken(user.name);
        const enrollment = enrollmentToken(user.name);
        const someoneElses = apiToken('admin');
        for (const token of [api, enrollment, someoneElses]) {
          await store.createToken(token);
        }
        const login = refreshToken({ subject: user.name });
        await store.createRefreshToken(login);

        assert.equal(await store.removeUser(user.name), true);
        assert.equal(await store.getUser(user.name), null);
        assert.equal(await store.removeUser(user.name), false);

        assert.deepEqual((await store.getToken(api.id))?.revokedAt, NOW);
        assert.equal((await store.getToken(enrollment.id))?.revokedAt, null);
        assert.equal((await store.getToken(someoneElses.id))?.revokedAt, null);
        assert.deepEqual((await store.findRefreshTokenBySecretHash(login.secretHash))?.revokedAt, NOW);
        assert.deepEqual(await store.accessTokenRevokedAt('any-jti', login.familyId), NOW);

        const successor = userRecord({ name: user.name });
        await store.createUser(successor);
        assert.deepEqual(await store.getUser(user.name), successor);
      });
    });

    describe('API and enrollment tokens', () => {
      it('creates tokens and finds them by id and by secret hash', async () => {
        const api = apiToken('alice');
        const enrollment = enrollmentToken('alice', { usesLeft: 5, expiresAt: null });
        await store.createToken(api);
        await store.createToken(enrollment);
        assert.deepEqual(await store.getToken(api.id), api);
        assert.deepEqual(await store.findTokenBySecretHash(api.secretHash), api);
        assert.deepEqual(await store.findTokenBySecretHash(enrollment.secretHash), enrollment);
        assert.equal(await store.getToken('tok_unknown'), null);
        assert.equal(await store.findTokenBySecretHash('00'.repeat(32)), null);
      });

      it('refuses a token whose id or secret hash exists with DuplicateError', async () => {
        const token = apiToken('alice');
        await store.createToken(token);
        await assert.rejects(
          store.createToken(apiToken('bob', { id: token.id })),
          isDuplicate(`token ${token.id}`),
        );
        const sameSecret = apiToken('bob', { secretHash: token.secretHash });
        await assert.rejects(store.createToken(sameSecret), isDuplicate(`token ${sameSecret.id}`));
        assert.equal(await store.getToken(sameSecret.id), null);
        assert.deepEqual(await store.findTokenBySecretHash(token.secretHash), token);
      });

      it('refuses a negative or fractional number of uses', async () => {
        await assert.rejects(store.createToken(enrollmentToken('alice', { usesLeft: -1 })), RangeError);
        await assert.rejects(store.createToken(enrollmentToken('alice', { usesLeft: 1.5 })), RangeError);
      });

      it('lists by owner and kind, newest first, revoked ones only when asked', async () => {
        const oldest = apiToken('alice', { createdAt: minutesAfter(NOW, 1) });
        const middle = enrollmentToken('alice', { createdAt: minutesAfter(NOW, 2) });
        const newest = apiToken('alice', { createdAt: minutesAfter(NOW, 3) });
        const bobs = apiToken('bob', { createdAt: minutesAfter(NOW, 4) });
        for (const token of [oldest, middle, newest, bobs]) {
          await store.createToken(token);
        }
        const revoked = await store.revokeToken(newest.id, minutesAfter(NOW, 5));

        const ids = (list: { id: string }[]) => list.map((token) => token.id);
        assert.deepEqual(ids(await store.listTokens({})), [bobs.id, middle.id, oldest.id]);
        assert.deepEqual(ids(await store.listTokens({ owner: 'alice' })), [middle.id, oldest.id]);
        assert.deepEqual(ids(await store.listTokens({ owner: 'alice', includeRevoked: true })), [
          newest.id,
          middle.id,
          oldest.id,
        ]);
        assert.deepEqual(ids(await store.listTokens({ kind: 'enrollment' })), [middle.id]);
        assert.deepEqual(ids(await store.listTokens({ kind: 'api', owner: 'alice' })), [oldest.id]);
        assert.deepEqual(await store.listTokens({ kind: 'api', owner: 'alice', includeRevoked: true }), [
          revoked,
          oldest,
        ]);
        assert.deepEqual(await store.listTokens({ owner: 'carol' }), []);
      });

      it('pages tokens newest first by (created_at, id), ties included, and accounts by name', async () => {
        // Two tokens per minute: ties on the time are ordered by id.
        const tokens = Array.from({ length: 7 }, (_, i) =>
          apiToken('alice', { createdAt: minutesAfter(NOW, Math.floor(i / 2)) }),
        );
        for (const token of tokens) await store.createToken(token);
        const seen: string[] = [];
        let after: { at: Date; key: string } | undefined;
        for (;;) {
          const page = await store.listTokens({ owner: 'alice', limit: 3, ...(after ? { after } : {}) });
          seen.push(...page.map((t) => t.id));
          const last = page[page.length - 1];
          if (page.length < 3 || last === undefined) break;
          after = { at: last.createdAt, key: last.id };
        }
        const expected = [...tokens]
          .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
          .map((t) => t.id);
        assert.deepEqual(seen, expected);

        for (const name of ['carol', 'alice', 'bob', 'dave']) await store.createUser(userRecord({ name }));
        const names = (list: { name: string }[]) => list.map((u) => u.name);
        assert.deepEqual(names(await store.listUsers({ limit: 2 })), ['alice', 'bob']);
        assert.deepEqual(names(await store.listUsers({ limit: 2, after: 'bob' })), ['carol', 'dave']);
        assert.deepEqual(await store.listUsers({ limit: 2, after: 'dave' }), []);
      });

      it('revokes once: a second revocation keeps the first time', async () => {
        const token = apiToken('alice');
        await store.createToken(token);
        const expected = { ...token, revokedAt: minutesAfter(NOW, 1) };
        assert.deepEqual(await store.revokeToken(token.id, minutesAfter(NOW, 1)), expected);
        assert.deepEqual(await store.revokeToken(token.id, minutesAfter(NOW, 2)), expected);
        assert.deepEqual(await store.findTokenBySecretHash(token.secretHash), expected);
        assert.equal(await store.revokeToken('tok_unknown', NOW), null);
      });

      it('records use at most once a minute and never moves it backwards', async () => {
        const token = apiToken('alice');
        await store.createToken(token);
        const lastUsedAt = async () => (await store.getToken(token.id))?.lastUsedAt;

        await store.touchToken(token.id, NOW);
        assert.deepEqual(await lastUsedAt(), NOW);
        await store.touchToken(token.id, secondsAfter(NOW, 59));
        assert.deepEqual(await lastUsedAt(), NOW);
        await store.touchToken(token.id, secondsAfter(NOW, 60));
        assert.deepEqual(await lastUsedAt(), secondsAfter(NOW, 60));
        await store.touchToken(token.id, minutesAfter(NOW, -10));
        assert.deepEqual(await lastUsedAt(), secondsAfter(NOW, 60));
        await store.touchToken('tok_unknown', NOW);
        assert.equal(await store.getToken('tok_unknown'), null);
      });
    });

    describe('consumeEnrollmentUse', () => {
      it('takes uses down to zero, then refuses', async () => {
        const token = enrollmentToken('alice', { usesLeft: 3 });
        await store.createToken(token);
        const at = minutesAfter(NOW, 1);
        const usesLeft = async () => (await store.getToken(token.id))?.usesLeft;
        assert.equal(await store.consumeEnrollmentUse(token.id, at), true);
        assert.equal(await usesLeft(), 2);
        assert.equal(await store.consumeEnrollmentUse(token.id, at), true);
        assert.equal(await store.consumeEnrollmentUse(token.id, at), true);
        assert.equal(await usesLeft(), 0);
        assert.equal(await store.consumeEnrollmentUse(token.id, at), false);
        assert.equal(await usesLeft(), 0);
        assert.deepEqual((await store.getToken(token.id))?.lastUsedAt, at);
      });

      it('never runs out of unlimited uses', async () => {
        const token = enrollmentToken('alice', { usesLeft: null });
        await store.createToken(token);
        for (let use = 0; use < 5; use++) {
          assert.equal(await store.consumeEnrollmentUse(token.id, NOW), true);
        }
        assert.equal((await store.getToken(token.id))?.usesLeft, null);
      });

      it('refuses expired, revoked, API and unknown tokens, changing nothing', async () => {
        const expiring = enrollmentToken('alice', { usesLeft: 2, expiresAt: minutesAfter(NOW, 10) });
        const revoked = enrollmentToken('alice', { usesLeft: 2 });
        const api = apiToken('alice');
        for (const token of [expiring, revoked, api]) {
          await store.createToken(token);
        }
        const revokedRecord = await store.revokeToken(revoked.id, NOW);

        assert.equal(await store.consumeEnrollmentUse(expiring.id, minutesAfter(NOW, 10)), false);
        assert.equal(await store.consumeEnrollmentUse(expiring.id, minutesAfter(NOW, 11)), false);
        assert.deepEqual(await store.getToken(expiring.id), expiring);
        assert.equal(await store.consumeEnrollmentUse(expiring.id, minutesAfter(NOW, 9)), true);

        assert.equal(await store.consumeEnrollmentUse(revoked.id, NOW), false);
        assert.deepEqual(await store.getToken(revoked.id), revokedRecord);
        assert.equal(await store.consumeEnrollmentUse(api.id, NOW), false);
        assert.deepEqual(await store.getToken(api.id), api);
        assert.equal(await store.consumeEnrollmentUse('tok_unknown', NOW), false);
      });

      it('gives a one-use token to exactly one of 20 concurrent callers on two stores', async () => {
        const other = await reopen();
        const token = enrollmentToken('alice', { usesLeft: 1 });
        await store.createToken(token);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            (index % 2 === 0 ? store : other).consumeEnrollmentUse(token.id, NOW),
          ),
        );
        assert.equal(results.filter((taken) => taken).length, 1);
        assert.equal((await store.getToken(token.id))?.usesLeft, 0);
      });

      it('gives a five-use token to exactly five of 20 concurrent callers on two stores', async () => {
        const other = await reopen();
        const token = enrollmentToken('alice', { usesLeft: 5 });
        await store.createToken(token);
        const results = await Promise.all(
          Array.from({ length: 20 }, (_, index) =>
            (index % 2 === 0 ? other : store).consumeEnrollmentUse(token.id, NOW),
          ),
        );
        assert.equal(results.filter((taken) => taken).length, 5);
        assert.equal((await other.getToken(token.id))?.usesLeft, 0);
      });
    });

    describe('refresh tokens', () => {
      it('creates and finds by secret hash; refuses a duplicate with DuplicateError', async () => {
        const token = refreshToken();
        await store.createRefreshToken(token);
        assert.deepEqual(await store.findRefreshTokenBySecretHash(token.secretHash), token);
        assert.equal(await store.findRefreshTokenBySecretHash('00'.repeat(32)), null);
        await assert.rejects(
          store.createRefreshToken(refreshToken({ id: token.id })),
          isDuplicate(`refresh token ${token.id}`),
        );
        const sameSecret = refreshToken({ secretHash: token.secretHash });
        await assert.rejects(
          store.createRefreshToken(sameSecret),
          isDuplicate(`refresh token ${sameSecret.id}`),
        );
      });

      it('marks a token used once: presenting it again is reuse', async () => {
        const token = refreshToken();
        await store.createRefreshToken(token);
        const at = minutesAfter(NOW, 3);
        assert.equal(await store.markRefreshTokenUsed(token.id, at), true);
        assert.equal(await store.markRefreshTokenUsed(token.id, minutesAfter(NOW, 4)), false);
        assert.deepEqual(await store.findRefreshTokenBySecretHash(token.secretHash), {
          ...token,
          usedAt: at,
        });
        assert.equal(await store.markRefreshTokenUsed('no-such-token', at), false);
      });

      it('lets exactly one of 10 concurrent rotations on two stores win', async () => {
        const other = await reopen();
        const token = refreshToken();
        await store.createRefreshToken(token);
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, index) =>
            (index % 2 === 0 ? store : other).markRefreshTokenUsed(token.id, NOW),
          ),
        );
        assert.equal(results.filter((won) => won).length, 1);
      });

      it('revokes a family: its tokens, later rotations into it, and its access tokens', async () => {
        const first = refreshToken();
        const rotated = refreshToken({ familyId: first.familyId, subject: first.subject });
        const otherFamily = refreshToken({ subject: first.subject });
        for (const token of [first, rotated, otherFamily]) {
          await store.createRefreshToken(token);
        }
        await store.markRefreshTokenUsed(first.id, NOW);
        const at = minutesAfter(NOW, 7);

        assert.equal(await store.revokeRefreshFamily(first.familyId, at), 2);
        assert.equal(await store.revokeRefreshFamily(first.familyId, minutesAfter(NOW, 8)), 0);
        assert.deepEqual(await store.findRefreshTokenBySecretHash(first.secretHash), {
          ...first,
          usedAt: NOW,
          revokedAt: at,
        });
        assert.equal(await store.markRefreshTokenUsed(rotated.id, at), false);
        assert.deepEqual(await store.accessTokenRevokedAt('any-jti', first.familyId), at);
        assert.equal(await store.accessTokenRevokedAt('any-jti', otherFamily.familyId), null);
        assert.equal(await store.markRefreshTokenUsed(otherFamily.id, at), true);

        const late = refreshToken({ familyId: first.familyId, subject: first.subject });
        await store.createRefreshToken(late);
        assert.deepEqual(await store.findRefreshTokenBySecretHash(late.secretHash), {
          ...late,
          revokedAt: at,
        });
        assert.equal(await store.markRefreshTokenUsed(late.id, at), false);
      });

      it('revokes the API tokens minted from the family, and a token minted after it (issue 8 item 5)', async () => {
        const family = refreshToken();
        const other = refreshToken();
        await store.createRefreshToken(family);
        await store.createRefreshToken(other);
        const minted = apiToken('alice', { familyId: family.familyId });
        const elsewhere = apiToken('alice', { familyId: other.familyId });
        const durable = apiToken('alice');
        for (const token of [minted, elsewhere, durable]) await store.createToken(token);
        assert.equal((await store.getToken(minted.id))?.familyId, family.familyId);

        const at = minutesAfter(NOW, 4);
        await store.revokeRefreshFamily(family.familyId, at);
        assert.deepEqual((await store.getToken(minted.id))?.revokedAt, at);
        assert.equal((await store.getToken(elsewhere.id))?.revokedAt, null);
        assert.equal((await store.getToken(durable.id))?.revokedAt, null);

        // Minted by a request that raced the logout: it is born revoked.
        const late = apiToken('alice', { familyId: family.familyId, createdAt: minutesAfter(NOW, 5) });
        await store.createToken(late);
        assert.deepEqual((await store.getToken(late.id))?.revokedAt, minutesAfter(NOW, 5));
      });

      it('revokes every token and family of a subject, and no one else', async () => {
        const subject = uniqueUserName();
        const mine = [refreshToken({ subject }), refreshToken({ subject }), refreshToken({ subject })];
        const theirs = refreshToken();
        for (const token of [...mine, theirs]) {
          await store.createRefreshToken(token);
        }
        const at = minutesAfter(NOW, 2);
        assert.equal(await store.revokeRefreshTokensOfSubject(subject, at), 3);
        assert.equal(await store.revokeRefreshTokensOfSubject(subject, minutesAfter(NOW, 3)), 0);
        for (const token of mine) {
          assert.deepEqual((await store.findRefreshTokenBySecretHash(token.secretHash))?.revokedAt, at);
          assert.deepEqual(await store.accessTokenRevokedAt('jti', token.familyId), at);
        }
        assert.equal((await store.findRefreshTokenBySecretHash(theirs.secretHash))?.revokedAt, null);
        assert.equal(await store.accessTokenRevokedAt('jti', theirs.familyId), null);
        assert.equal(await store.revokeRefreshTokensOfSubject(uniqueUserName(), at), 0);
      });
    });

    describe('access token revocation', () => {
      it('denylists a token by jti, with or without a family, keeping the first time', async () => {
        const at = minutesAfter(NOW, 1);
        await store.revokeAccessToken('jti-1', minutesAfter(NOW, 15), at);
        await store.revokeAccessToken('jti-1', minutesAfter(NOW, 15), minutesAfter(NOW, 2));
        assert.deepEqual(await store.accessTokenRevokedAt('jti-1', null), at);
        assert.deepEqual(await store.accessTokenRevokedAt('jti-1', 'live-family'), at);
        assert.equal(await store.accessTokenRevokedAt('jti-2', null), null);
        assert.equal(await store.accessTokenRevokedAt('jti-2', 'live-family'), null);
      });

      it('answers with the earlier of the token and family revocations', async () => {
        const token = refreshToken();
        await store.createRefreshToken(token);
        await store.revokeRefreshFamily(token.familyId, minutesAfter(NOW, 5));
        await store.revokeAccessToken('jti-early', minutesAfter(NOW, 15), minutesAfter(NOW, 3));
        await store.revokeAccessToken('jti-late', minutesAfter(NOW, 15), minutesAfter(NOW, 8));
        assert.deepEqual(await store.accessTokenRevokedAt('jti-early', token.familyId), minutesAfter(NOW, 3));
        assert.deepEqual(await store.accessTokenRevokedAt('jti-late', token.familyId), minutesAfter(NOW, 5));
      });

      it('forgets entries of tokens that have expired when it records another', async () => {
        await store.revokeAccessToken('short-lived', minutesAfter(NOW, 5), NOW);
        await store.revokeAccessToken('long-lived', minutesAfter(NOW, 60), NOW);
        await store.revokeAccessToken('next', minutesAfter(NOW, 60), minutesAfter(NOW, 5));
        assert.deepEqual(await store.accessTokenRevokedAt('short-lived', null), NOW);
        await store.revokeAccessToken('later', minutesAfter(NOW, 60), minutesAfter(NOW, 6));
        assert.equal(await store.accessTokenRevokedAt('short-lived', null), null);
        assert.deepEqual(await store.accessTokenRevokedAt('long-lived', null), NOW);
        assert.deepEqual(await store.accessTokenRevokedAt('later', null), minutesAfter(NOW, 6));
      });
    });

    describe('OAuth clients', () => {
      it('creates, finds, lists and refuses duplicates', async () => {
        const beta = oauthClient({ clientId: 'beta', role: 'host', disabled: true });
        const alpha = oauthClient({ clientId: 'alpha', scopes: [] });
        await store.createClient(beta);
        await store.createClient(alpha);
        assert.deepEqual(await store.getClient('alpha'), alpha);
        assert.equal(await store.getClient('gamma'), null);
        assert.deepEqual(await store.listClients(), [alpha, beta]);
        await assert.rejects(
          store.createClient(oauthClient({ clientId: 'alpha' })),
          isDuplicate('client alpha'),
        );
        assert.deepEqual(await store.getClient('alpha'), alpha);
      });

      it('updates only the patched fields', async () => {
        const client = oauthClient();
        await store.createClient(client);
        const rotated = { ...client, secretHash: '$argon2id$rotated' };
        assert.deepEqual(
          await store.updateClient(client.clientId, { secretHash: '$argon2id$rotated' }),
          rotated,
        );
        const expected = { ...rotated, disabled: true, scopes: ['certificates:read'] };
        assert.deepEqual(
          await store.updateClient(client.clientId, { disabled: true, scopes: ['certificates:read'] }),
          expected,
        );
        assert.deepEqual(await store.updateClient(client.clientId, {}), expected);
        assert.deepEqual(await store.getClient(client.clientId), expected);
        assert.equal(await store.updateClient('unknown', { disabled: true }), null);
        assert.equal(await store.updateClient('unknown', {}), null);
      });

      it('removes a client once', async () => {
        const client = oauthClient();
        await store.createClient(client);
        assert.equal(await store.removeClient(client.clientId), true);
        assert.equal(await store.getClient(client.clientId), null);
        assert.equal(await store.removeClient(client.clientId), false);
      });
    });

    describe('signing keys', () => {
      it('adds and lists keys oldest first; refuses a duplicate kid', async () => {
        const newer = signingKey({ createdAt: minutesAfter(NOW, 60) });
        const older = signingKey();
        await store.addSigningKey(newer);
        await store.addSigningKey(older);
        assert.deepEqual(await store.listSigningKeys(), [older, newer]);
        await assert.rejects(
          store.addSigningKey(signingKey({ kid: older.kid })),
          isDuplicate(`signing key ${older.kid}`),
        );
        assert.deepEqual(await store.listSigningKeys(), [older, newer]);
      });

      it('retires a key once: the first retirement stands', async () => {
        const key = signingKey();
        await store.addSigningKey(key);
        const retiredAt = minutesAfter(NOW, 30);
        const removeAfter = minutesAfter(NOW, 45);
        const expected = { ...key, retiredAt, removeAfter };
        assert.deepEqual(await store.retireSigningKey(key.kid, retiredAt, removeAfter), expected);
        assert.deepEqual(
          await store.retireSigningKey(key.kid, minutesAfter(NOW, 40), minutesAfter(NOW, 90)),
          expected,
        );
        assert.deepEqual(await store.listSigningKeys(), [expected]);
        assert.equal(await store.retireSigningKey('unknown', retiredAt, removeAfter), null);
      });
    });

    describe('durability', () => {
      it('keeps every acknowledged write across a reopen, including writes issued together', async () => {
        const user = userRecord();
        const token = enrollmentToken(user.name, { usesLeft: 2 });
        const client = oauthClient();
        const key = signingKey();
        const login = refreshToken({ subject: user.name });
        // Issued in one turn of the event loop: on SQLite they share one group-commit transaction, in
        // which the duplicate fails alone.
        const duplicate = userRecord({ name: user.name });
        const results = await Promise.allSettled([
          store.createUser(user),
          store.createToken(token),
          store.createUser(duplicate),
          store.createClient(client),
          store.addSigningKey(key),
          store.createRefreshToken(login),
        ]);
        const statuses = results.map((result) => result.status);
        if (backend.name === 'sqlite') {
          assert.deepEqual(statuses, [
            'fulfilled',
            'fulfilled',
            'rejected',
            'fulfilled',
            'fulfilled',
            'fulfilled',
          ]);
        } else {
          // PostgreSQL runs them on several pooled connections: either create of the name may come first,
          // and exactly one of the two fails.
          assert.deepEqual(
            [statuses[1], statuses[3], statuses[4], statuses[5]],
            ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled'],
          );
          assert.deepEqual([statuses[0], statuses[2]].sort(), ['fulfilled', 'rejected']);
        }
        const stored = statuses[0] === 'fulfilled' ? user : duplicate;
        assert.equal(await store.consumeEnrollmentUse(token.id, NOW), true);
        assert.equal(await store.markRefreshTokenUsed(login.id, NOW), true);
        await store.revokeAccessToken('jti', minutesAfter(NOW, 10), NOW);
        await store.close();

        store = await openStore(url, { clock: fixedClock });
        assert.deepEqual(await store.getUser(user.name), stored);
        assert.deepEqual(await store.getToken(token.id), { ...token, usesLeft: 1, lastUsedAt: NOW });
        assert.deepEqual(await store.getClient(client.clientId), client);
        assert.deepEqual(await store.listSigningKeys(), [key]);
        assert.deepEqual(await store.findRefreshTokenBySecretHash(login.secretHash), {
          ...login,
          usedAt: NOW,
        });
        assert.deepEqual(await store.accessTokenRevokedAt('jti', null), NOW);
      });
    });
  });
}
