import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Argon2Params,
  HasherBusyError,
  OWASP_ARGON2,
  PasswordHasher,
  type PasswordHasherOptions,
} from '../../src/auth/passwords.js';
import { MovableClock } from '../helpers/clock.js';

const SMALL: Argon2Params = { memoryKiB: 1024, iterations: 1, parallelism: 1 };
const PW = 'correct horse battery staple';

/** Counts argon2 runs and the most that ran at once, through the hasher's own hooks. */
class CountingHasher extends PasswordHasher {
  hashes = 0;
  verifies = 0;
  running = 0;
  maxRunning = 0;

  protected override async computeHash(pw: string, params: Argon2Params): Promise<string> {
    this.hashes++;
    return this.track(() => super.computeHash(pw, params));
  }

  protected override async computeVerify(phc: string, pw: string): Promise<boolean> {
    this.verifies++;
    return this.track(() => super.computeVerify(phc, pw));
  }

  private async track<T>(op: () => Promise<T>): Promise<T> {
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await op();
    } finally {
      this.running--;
    }
  }
}

function small(opts: PasswordHasherOptions = {}): CountingHasher {
  return new CountingHasher({ params: SMALL, ...opts });
}

describe('PasswordHasher', () => {
  it('uses the OWASP minimum for argon2id by default', async () => {
    assert.deepEqual(OWASP_ARGON2, { memoryKiB: 19456, iterations: 2, parallelism: 1 });
    const hasher = new PasswordHasher({});
    const phc = await hasher.hash(PW);
    assert.match(phc, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.deepEqual(await hasher.verify(phc, PW), { ok: true, needsRehash: false });
  });

  it('verifies the password it hashed and refuses another', async () => {
    const hasher = small();
    const phc = await hasher.hash(PW);
    assert.match(phc, /^\$argon2id\$v=19\$m=1024,t=1,p=1\$/);
    assert.doesNotMatch(phc, /horse/);
    assert.deepEqual(await hasher.verify(phc, PW), { ok: true, needsRehash: false });
    assert.deepEqual(await hasher.verify(phc, 'correct horse battery stapler'), {
      ok: false,
      needsRehash: false,
    });
  });

  it('salts: the same password hashes differently each time', async () => {
    const hasher = small();
    assert.notEqual(await hasher.hash(PW), await hasher.hash(PW));
  });

  it('normalises (NFKC) before hashing, so a fullwidth spelling matches', async () => {
    const hasher = small();
    const phc = await hasher.hash('ｐａｓｓｐｈｒａｓｅ ｏｎｅ');
    assert.equal((await hasher.verify(phc, 'passphrase one')).ok, true);
  });

  it('says a hash needs rehashing when its parameters differ from the current ones', async () => {
    const old = small();
    const phc = await old.hash(PW);
    assert.equal(old.needsRehash(phc), false);
    const stronger = small({ params: { memoryKiB: 2048, iterations: 1, parallelism: 1 } });
    assert.equal(stronger.needsRehash(phc), true);
    assert.equal(
      small({ params: { memoryKiB: 1024, iterations: 2, parallelism: 1 } }).needsRehash(phc),
      true,
    );
    assert.deepEqual(await stronger.verify(phc, PW), { ok: true, needsRehash: true });
    // A wrong password learns nothing about the stored hash.
    assert.deepEqual(await stronger.verify(phc, 'wrong wrong wrong'), { ok: false, needsRehash: false });
    assert.equal(stronger.needsRehash('not a phc string'), true);
  });

  it('answers ok:false for an unknown account (null hash), after one argon2 verification', async () => {
    const hasher = small();
    assert.deepEqual(await hasher.verify(null, PW), { ok: false, needsRehash: false });
    assert.equal(hasher.verifies, 1);
    assert.equal(hasher.hashes, 1, 'the dummy hash is made on first use');
    assert.deepEqual(await hasher.verify(null, PW), { ok: false, needsRehash: false });
    assert.equal(hasher.verifies, 2, 'unknown accounts are never cached');
    assert.equal(hasher.hashes, 1, 'the dummy hash is made once');
  });

  it('answers a repeated successful verification from the cache without argon2, until the TTL', async () => {
    const clock = new MovableClock();
    const hasher = small({ clock, cacheTtlMs: 60_000 });
    const phc = await hasher.hash(PW);
    assert.equal((await hasher.verify(phc, PW)).ok, true);
    assert.equal(hasher.verifies, 1);
    clock.advance(59.999);
    assert.equal((await hasher.verify(phc, PW)).ok, true);
    assert.equal(hasher.verifies, 1, 'cache hit');
    clock.advance(0.001);
    assert.equal((await hasher.verify(phc, PW)).ok, true);
    assert.equal(hasher.verifies, 2, 'entry expired: argon2 again');
  });

  it('never caches failures', async () => {
    const hasher = small();
    const phc = await hasher.hash(PW);
    await hasher.verify(phc, 'wrong wrong wrong');
    await hasher.verify(phc, 'wrong wrong wrong');
    assert.equal(hasher.verifies, 2);
  });

  it('does not let a cached success answer for another password or another stored hash', async () => {
    const hasher = small();
    const phc = await hasher.hash(PW);
    assert.equal((await hasher.verify(phc, PW)).ok, true);
    assert.equal((await hasher.verify(phc, `${PW}!`)).ok, false);
    const changed = await hasher.hash('a brand new passphrase');
    assert.equal((await hasher.verify(changed, PW)).ok, false, 'the old password against the new hash');
    assert.equal(hasher.verifies, 3);
  });

  it('keeps at most cacheMaxEntries, forgetting the oldest', async () => {
    const hasher = small({ cacheMaxEntries: 2 });
    const passwords = ['first passphrase', 'second passphrase', 'third passphrase'];
    const hashes = await Promise.all(passwords.map((p) => hasher.hash(p)));
    for (let i = 0; i < 3; i++) await hasher.verify(hashes[i]!, passwords[i]!);
    assert.equal(hasher.verifies, 3);
    await hasher.verify(hashes[2]!, passwords[2]!);
    await hasher.verify(hashes[1]!, passwords[1]!);
    assert.equal(hasher.verifies, 3, 'the two newest are cached');
    await hasher.verify(hashes[0]!, passwords[0]!);
    assert.equal(hasher.verifies, 4, 'the oldest was evicted');
  });

  it('does not cache when cacheTtlMs is 0', async () => {
    const hasher = small({ cacheTtlMs: 0 });
    const phc = await hasher.hash(PW);
    await hasher.verify(phc, PW);
    await hasher.verify(phc, PW);
    assert.equal(hasher.verifies, 2);
  });

  it('runs at most maxConcurrent argon2 operations at once', async () => {
    const hasher = small({ maxConcurrent: 2, maxQueue: 64 });
    const phc = await hasher.hash(PW);
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => hasher.verify(phc, `wrong ${i}`)));
    assert.ok(results.every((r) => !r.ok));
    assert.equal(hasher.maxRunning, 2);
  });

  it('refuses at once with HasherBusyError beyond maxQueue waiting operations', async () => {
    const hasher = small({ maxConcurrent: 1, maxQueue: 2 });
    const phc = await hasher.hash(PW);
    const order: string[] = [];
    const attempts = Array.from({ length: 10 }, (_, i) =>
      hasher.verify(phc, `wrong ${i}`).then(
        (r) => {
          order.push('done');
          return r;
        },
        (err: unknown) => {
          order.push('busy');
          throw err;
        },
      ),
    );
    const settled = await Promise.allSettled(attempts);
    const busy = settled.filter((s) => s.status === 'rejected');
    assert.equal(busy.length, 7, '1 running + 2 queued are accepted');
    for (const s of busy) assert.ok(s.reason instanceof HasherBusyError);
    assert.deepEqual(order.slice(0, 7), Array(7).fill('busy'), 'refusals do not wait for argon2');
    assert.equal(hasher.maxRunning, 1);
    // The queue drains and the hasher serves again.
    assert.equal((await hasher.verify(phc, PW)).ok, true);
  });

  it('serves queued operations in arrival order', async () => {
    const hasher = small({ maxConcurrent: 1, maxQueue: 8 });
    const phc = await hasher.hash(PW);
    const finished: number[] = [];
    await Promise.all(
      Array.from({ length: 6 }, (_, i) => hasher.verify(phc, `wrong ${i}`).then(() => finished.push(i))),
    );
    assert.deepEqual(finished, [0, 1, 2, 3, 4, 5]);
  });

  it('rejects a stored hash that is not a PHC string rather than answering', async () => {
    const hasher = small();
    await assert.rejects(hasher.verify('$2b$10$notargon', PW), /not an argon2 PHC string/);
  });

  it('refuses absurd options', () => {
    assert.throws(() => new PasswordHasher({ maxConcurrent: 0 }), RangeError);
    assert.throws(
      () => new PasswordHasher({ params: { memoryKiB: 4, iterations: 1, parallelism: 1 } }),
      RangeError,
    );
  });
});
