/**
 * Passwords and client secrets, checked under the login throttle: at the same cost whether or not
 * the account exists, with attempts in flight counted so that parallel guesses cannot outrun it.
 */
import type { AuthStore, OAuthClientRecord, UserRecord } from '../store/identities/auth-store.js';
import type { Clock } from '../types.js';
import { AuthFailure, type SchemeName } from './failure.js';
import type { FailureLimiter } from './limiter.js';
import { HasherBusyError, type PasswordHasher } from './passwords.js';
import type { Tarpit } from './tarpit.js';

const LOGIN_HINT = 'check the user name and password; run `certmaster login --server URL` to sign in again';

export class SecretChecks {
  constructor(
    private readonly deps: {
      store: AuthStore;
      hasher: PasswordHasher;
      limiter: FailureLimiter;
      clock: Clock;
      /** Holds throttled answers for a moment (auth.throttle_tarpit_ms); none holds nothing. */
      tarpit?: Tarpit;
    },
  ) {}

  /**
   * Checks a user name and password, throttled, at the same cost whether or not the user exists.
   * Shared by Basic and the OAuth password grant.
   */
  async verifyPassword(
    userId: string,
    password: string,
    address: string,
    scheme: SchemeName | undefined,
  ): Promise<UserRecord> {
    const { limiter, store, hasher } = this.deps;
    // Throttled means 429 for every attempt, right or wrong: answering a recently verified password
    // 200 while wrong guesses get a cheap 429 would tell a guesser which guess was right. Checked
    // before the account is looked up, so a throttled flood costs no store read either, and again
    // after, with nothing awaited between that check and the counting of this attempt below.
    const early = this.throttled(address, userId, scheme);
    if (early) throw await this.held(address, early);
    const user = await store.getUser(userId);
    const late = this.throttled(address, userId, scheme);
    if (late) throw await this.held(address, late);
    // A repeat of a password verified moments ago is not a guess; anything else counts as one
    // while it is being checked, so parallel guesses cannot outrun the throttle.
    const repeat = user !== null && hasher.isCachedSuccess(user.passwordHash, password);
    const end = repeat ? () => undefined : limiter.begin(address, userId);
    let result: { ok: boolean; needsRehash: boolean };
    try {
      result = await hasher.verify(user?.passwordHash ?? null, password);
    } catch (e) {
      end();
      if (e instanceof HasherBusyError) {
        throw new AuthFailure(
          'too_many_attempts',
          'the server is busy checking passwords',
          'try again in a second',
          { code: 'hasher_busy' },
          {
            retryAfterSeconds: 1,
            claimedName: userId,
            ...(scheme ? { scheme } : {}),
          },
        );
      }
      throw e;
    }
    end();
    if (!user || !result.ok) {
      limiter.recordFailure(address, userId);
      throw new AuthFailure(
        'credentials_invalid',
        'the user name or password is not right',
        LOGIN_HINT,
        user
          ? { code: 'password_mismatch', account: user.name }
          : { code: 'unknown_user', name: userId, hashed: false },
        {
          claimedName: userId,
          ...(scheme ? { scheme } : {}),
        },
      );
    }
    if (user.disabled) {
      throw new AuthFailure(
        'account_disabled',
        'this account is disabled',
        'ask an administrator to run `certmaster user enable NAME`',
        { code: 'account_disabled', account: user.name, kind: 'user' },
        { claimedName: userId, ...(scheme ? { scheme } : {}) },
      );
    }
    limiter.recordSuccess(address, userId);
    if (result.needsRehash) {
      // Argon2 parameters were raised since this hash was made: upgrade it now that we know the password.
      await store.updateUser(user.name, { passwordHash: await hasher.hash(password) }, this.deps.clock.now());
    }
    return user;
  }

  /** A confidential client's secret (client_credentials), checked like a password. */
  async verifyClient(clientId: string, secret: string, address: string): Promise<OAuthClientRecord> {
    const early = this.throttled(address, `client:${clientId}`, 'basic');
    if (early) throw await this.held(address, early);
    const client = await this.deps.store.getClient(clientId);
    const late = this.throttled(address, `client:${clientId}`, 'basic');
    if (late) throw await this.held(address, late);
    const repeat = client !== null && this.deps.hasher.isCachedSuccess(client.secretHash, secret);
    const end = repeat ? () => undefined : this.deps.limiter.begin(address, `client:${clientId}`);
    const result = await this.deps.hasher
      .verify(client?.secretHash ?? null, secret)
      .finally(end)
      .catch((e: unknown) => {
        if (e instanceof HasherBusyError) {
          throw new AuthFailure(
            'too_many_attempts',
            'the server is busy checking secrets',
            'try again in a second',
            { code: 'hasher_busy' },
            {
              retryAfterSeconds: 1,
            },
          );
        }
        throw e;
      });
    if (!client || !result.ok) {
      this.deps.limiter.recordFailure(address, `client:${clientId}`);
      throw new AuthFailure(
        'credentials_invalid',
        'the client id or secret is not right',
        'check the service account credentials',
        client
          ? { code: 'client_secret_mismatch', client: clientId }
          : { code: 'unknown_client', client: clientId },
        {
          claimedName: clientId,
          scheme: 'basic',
        },
      );
    }
    if (client.disabled) {
      throw new AuthFailure(
        'account_disabled',
        'this client is disabled',
        'ask an administrator to enable it',
        { code: 'account_disabled', account: clientId, kind: 'client' },
        {
          claimedName: clientId,
          scheme: 'basic',
        },
      );
    }
    this.deps.limiter.recordSuccess(address, `client:${clientId}`);
    return client;
  }

  /**
   * The too_many_attempts refusal while the address (or address and account) must wait, else null.
   * Synchronous on purpose: when it returns null the caller goes on without yielding, so the check
   * and the attempt's counting (`limiter.begin`, `recordFailure`) cannot be split by a parallel guess.
   */
  throttled(address: string, account: string | null, scheme: SchemeName | undefined): AuthFailure | null {
    const wait = this.deps.limiter.retryAfter(address, account);
    if (wait > 0) {
      const secs = Math.ceil(wait);
      const inSecs = `${secs} second${secs === 1 ? '' : 's'}`;
      return new AuthFailure(
        'too_many_attempts',
        `too many failed attempts; try again in ${inSecs}`,
        `wait ${inSecs} (see Retry-After) and check the credentials before trying again`,
        { code: 'throttled', address, account, seconds: Math.ceil(wait) },
        {
          retryAfterSeconds: wait,
          ...(account ? { claimedName: account } : {}),
          ...(scheme ? { scheme } : {}),
        },
      );
    }
    return null;
  }

  /** A throttled refusal, after the tarpit has held it (auth.throttle_tarpit_ms), to be thrown. */
  async held(address: string, refusal: AuthFailure): Promise<AuthFailure> {
    await this.deps.tarpit?.hold(address, refusal.retryAfterSeconds ?? 0);
    return refusal;
  }
}
