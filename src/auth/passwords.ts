/**
 * Hashing and verifying passwords with argon2id, off the event loop and bounded, so that neither a
 * flood of logins nor a probe for which accounts exist gets anything out of the hasher.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { type Algorithm, hash, parseOptions, type Version, verify } from '@node-rs/argon2';
import { type Clock, systemClock } from '../types.js';
import { MAX_PASSWORD_INPUT_UNITS, normalizePassword } from './password-policy.js';

export interface Argon2Params {
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet, the minimum for argon2id: m=19 MiB, t=2, p=1. */
export const OWASP_ARGON2: Argon2Params = Object.freeze({ memoryKiB: 19456, iterations: 2, parallelism: 1 });

// Algorithm and Version are const enums the native module does not export at run time.
const ARGON2ID = 2 as Algorithm;
const ARGON2_VERSION_19 = 1 as Version;

/** The queue of password checks is full: answer 503 with Retry-After rather than wait. */
export class HasherBusyError extends Error {
  constructor() {
    super('too many password checks are already waiting; try again in a few seconds');
    this.name = 'HasherBusyError';
  }
}

export interface PasswordHasherOptions {
  params?: Argon2Params;
  /** argon2 operations running at once (each holds `memoryKiB` of memory); default 2. */
  maxConcurrent?: number;
  /** Operations waiting for a slot; beyond this HasherBusyError. Default 64. */
  maxQueue?: number;
  /** How long a successful verification is remembered; default 60 s. 0 disables the cache. */
  cacheTtlMs?: number;
  /** Default 10,000. */
  cacheMaxEntries?: number;
  clock?: Clock;
}

export interface VerifyResult {
  ok: boolean;
  /** The password was right and the stored hash was made with other parameters: store a new hash. */
  needsRehash: boolean;
}

export class PasswordHasher {
  readonly params: Argon2Params;
  private readonly maxConcurrent: number;
  private readonly maxQueue: number;
  private readonly cacheTtlMs: number;
  private readonly cacheMaxEntries: number;
  private readonly clock: Clock;
  /** Keys the cache, so that what it holds says nothing about any password without this key. */
  private readonly cacheSecret = randomBytes(32);
  /** HMAC of (stored hash, password) -> expiry in ms; Map order is insertion order, oldest first. */
  private readonly cache = new Map<string, number>();
  private active = 0;
  private verificationCount = 0;
  private readonly waiting: Array<() => void> = [];
  private dummy: Promise<string> | undefined;

  constructor(opts: PasswordHasherOptions = {}) {
    const params = opts.params ?? OWASP_ARGON2;
    requireInteger('params.memoryKiB', params.memoryKiB, 8 * params.parallelism);
    requireInteger('params.iterations', params.iterations, 1);
    requireInteger('params.parallelism', params.parallelism, 1, 255);
    this.params = Object.freeze({ ...params });
    this.maxConcurrent = requireInteger('maxConcurrent', opts.maxConcurrent ?? 2, 1);
    this.maxQueue = requireInteger('maxQueue', opts.maxQueue ?? 64, 0);
    this.cacheTtlMs = requireInteger('cacheTtlMs', opts.cacheTtlMs ?? 60_000, 0);
    this.cacheMaxEntries = requireInteger('cacheMaxEntries', opts.cacheMaxEntries ?? 10_000, 0);
    this.clock = opts.clock ?? systemClock;
  }

  /** The PHC string of `password` (NFKC-normalised) under the current parameters. */
  async hash(password: string): Promise<string> {
    if (password.length > MAX_PASSWORD_INPUT_UNITS) {
      throw new RangeError(`a password may have at most ${MAX_PASSWORD_INPUT_UNITS} UTF-16 code units`);
    }
    const normalized = normalizePassword(password);
    return this.bounded(() => this.computeHash(normalized, this.params));
  }

  /**
   * storedHash null = unknown account: verify against a dummy hash made with the same params so it
   * costs the same (docs/refusals.md: the caller is never told whether an account exists, not even by timing).
   */
  async verify(storedHash: string | null, password: string): Promise<VerifyResult> {
    // Longer than any acceptable password: cannot match, but still costs one verification.
    const tooLong = password.length > MAX_PASSWORD_INPUT_UNITS;
    const normalized = tooLong ? '' : normalizePassword(password);
    const target = storedHash ?? (await this.dummyHash());
    const key = this.cacheKey(target, normalized);
    if (storedHash !== null && !tooLong && this.cached(key)) {
      return { ok: true, needsRehash: this.needsRehash(storedHash) };
    }
    const matched = await this.bounded(() => {
      this.verificationCount++;
      return this.computeVerify(target, normalized);
    });
    if (storedHash === null || tooLong || !matched) {
      return { ok: false, needsRehash: false };
    }
    this.remember(key);
    return { ok: true, needsRehash: this.needsRehash(storedHash) };
  }

  /**
   * True when this exact password was verified against this hash recently (the cache would answer
   * without argon2). Synchronous, so a caller can tell a cheap repeat from a real guess.
   */
  isCachedSuccess(storedHash: string, password: string): boolean {
    if (password.length > MAX_PASSWORD_INPUT_UNITS) return false;
    return this.cached(this.cacheKey(storedHash, normalizePassword(password)));
  }

  /** Argon2 verifications run since start (cache hits excluded): what the login throttle bounds. */
  get verifications(): number {
    return this.verificationCount;
  }

  /** True when the PHC string is not argon2id v19 with the current parameters (or does not parse). */
  needsRehash(storedHash: string): boolean {
    let parsed: ReturnType<typeof parseOptions>;
    try {
      parsed = parseOptions(storedHash);
    } catch {
      return true;
    }
    return (
      parsed.algorithm !== ARGON2ID ||
      parsed.version !== ARGON2_VERSION_19 ||
      parsed.memoryCost !== this.params.memoryKiB ||
      parsed.timeCost !== this.params.iterations ||
      parsed.parallelism !== this.params.parallelism
    );
  }

  /** The one place argon2 hashes; runs on the libuv thread pool. Tests override it to count calls. */
  protected computeHash(normalizedPassword: string, params: Argon2Params): Promise<string> {
    return hash(normalizedPassword, {
      algorithm: ARGON2ID,
      memoryCost: params.memoryKiB,
      timeCost: params.iterations,
      parallelism: params.parallelism,
    });
  }

  /** The one place argon2 verifies; parameters come from the PHC string. */
  protected async computeVerify(phc: string, normalizedPassword: string): Promise<boolean> {
    try {
      return await verify(phc, normalizedPassword);
    } catch (cause) {
      throw new Error('the stored password hash is not an argon2 PHC string', { cause });
    }
  }

  /**
   * Runs `op` when fewer than maxConcurrent run, else waits in a FIFO queue of at most maxQueue.
   * Without the bound every login would start an argon2 run of 19 MiB, and a flood of them would
   * exhaust memory and the thread pool (argon2 as a DoS lever).
   */
  private async bounded<T>(op: () => Promise<T>): Promise<T> {
    if (this.active < this.maxConcurrent) {
      this.active++;
    } else {
      if (this.waiting.length >= this.maxQueue) throw new HasherBusyError();
      // release() hands its slot straight to us, so `active` already counts this operation.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await op();
    } finally {
      const next = this.waiting.shift();
      if (next === undefined) this.active--;
      else next();
    }
  }

  /** Made once, from a random password nobody knows, with the current parameters. */
  private dummyHash(): Promise<string> {
    if (this.dummy === undefined) {
      const made = this.bounded(() => this.computeHash(randomBytes(32).toString('base64url'), this.params));
      this.dummy = made;
      // A failure (queue full) must not stick: the next unknown-user check tries again.
      made.catch(() => {
        if (this.dummy === made) this.dummy = undefined;
      });
    }
    return this.dummy;
  }

  /**
   * Like Apache mod_authn_socache: only successes are remembered, keyed by a MAC over the stored
   * hash and the password, never the password or an unkeyed hash of it. A new password means a new
   * stored hash, so entries for the old one can never match again.
   */
  private cacheKey(storedHash: string, normalizedPassword: string): string {
    return createHmac('sha256', this.cacheSecret)
      .update(storedHash)
      .update('\0')
      .update(normalizedPassword)
      .digest('base64url');
  }

  private cached(key: string): boolean {
    const expires = this.cache.get(key);
    if (expires === undefined) return false;
    if (expires <= this.clock.now().getTime()) {
      this.cache.delete(key);
      return false;
    }
    return true;
  }

  private remember(key: string): void {
    if (this.cacheTtlMs === 0 || this.cacheMaxEntries === 0) return;
    this.cache.delete(key);
    this.cache.set(key, this.clock.now().getTime() + this.cacheTtlMs);
    while (this.cache.size > this.cacheMaxEntries) {
      const oldest = this.cache.keys().next();
      if (oldest.done) break;
      this.cache.delete(oldest.value);
    }
  }
}

function requireInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  }
  return value;
}
