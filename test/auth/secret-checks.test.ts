/**
 * Guesses started in the same instant cannot outrun the login throttle, although the account is now
 * read (an await) after the first throttle check: the check is repeated with nothing awaited before
 * the attempt is counted. Real store (SQLite), real argon2 hasher; the clock stands still, so no delay
 * expires during the test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { AuthFailure } from '../../src/auth/failure.js';
import { FailureLimiter } from '../../src/auth/limiter.js';
import { PasswordHasher } from '../../src/auth/passwords.js';
import { SecretChecks } from '../../src/auth/secret-checks.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { MovableClock } from '../helpers/clock.js';
import { userRecord } from '../store/auth-records.js';

const FREE = 3;

describe('SecretChecks under parallel guesses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'secret-checks-'));
  const clock = new MovableClock(Date.now());
  let store: CertmasterStore;
  let hasher: PasswordHasher;
  let checks: SecretChecks;

  before(async () => {
    store = await openStore(`sqlite:${join(dir, 'store.sqlite')}`, { writerThread: false });
    hasher = new PasswordHasher({ clock });
    const limiter = new FailureLimiter({ clock, freeFailures: FREE });
    checks = new SecretChecks({ store, hasher, limiter, clock });
    await store.createUser(
      userRecord({ name: 'alice', passwordHash: await hasher.hash('correct horse battery staple') }),
    );
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('40 wrong passwords at once: at most the free failures are verified, the rest get 429', async () => {
    const before = hasher.verifications;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        checks.verifyPassword('alice', `wrong ${i}`, '192.0.2.5', 'basic'),
      ),
    );
    const reasons = outcomes.map((o) =>
      o.status === 'rejected' && o.reason instanceof AuthFailure ? o.reason.reason : 'other',
    );
    const verified = hasher.verifications - before;
    assert.ok(verified <= FREE, `${verified} argon2 verifications for ${FREE} free failures`);
    assert.equal(reasons.filter((r) => r === 'credentials_invalid').length, verified);
    assert.equal(reasons.filter((r) => r === 'too_many_attempts').length, 40 - verified);
  });
});
