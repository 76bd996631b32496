/**
 * The Ed25519 keys that sign access tokens. Every replica reads them from the store, so any replica
 * verifies what another signed; private keys are stored sealed, public keys as JWKs (RFC 7517).
 *
 * Rotation without downtime: a new key signs at once, and the retired key keeps verifying until
 * every token it may have signed has expired. A replica that has not reloaded yet still signs with
 * the retired key for up to one reload interval (30 s), which is why `removeAfter` adds 60 s to the
 * access-token lifetime; and a replica that meets a kid it does not know reloads before refusing.
 */
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';

/** PKCS#8 header of an Ed25519 private key (RFC 8410 §7): the 32-octet seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

import { calculateJwkThumbprint } from 'jose';
import type { AuthStore, SigningKeyRecord } from '../../store/identities/auth-store.js';
import type { Clock } from '../../types.js';

/** The two operations of the server's SecretBox this needs. */
export interface KeySealer {
  seal(plaintext: Buffer | string, context: string): string;
  open(sealed: string, context: string): Buffer;
}

export type SigningKeyStore = Pick<AuthStore, 'addSigningKey' | 'listSigningKeys' | 'retireSigningKey'>;

/** A public key as published in the JWKS. */
export interface PublishedJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
}

/** Tokens signed by a replica that has not yet seen a rotation stay verifiable this long after it. */
export const ROTATION_GRACE_SECONDS = 60;
/** An unknown kid triggers a reload at most this often, so garbage kids cannot hammer the store. */
const UNKNOWN_KID_RELOAD_MS = 5_000;
const MAX_KID_LENGTH = 128;

interface LoadedKey {
  record: SigningKeyRecord;
  publicKey: KeyObject;
  jwk: PublishedJwk;
}

export class SigningKeyRing {
  #keys = new Map<string, LoadedKey>();
  readonly #privateKeys = new Map<string, KeyObject>();
  #lastReloadMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: SigningKeyStore,
    private readonly box: KeySealer,
    private readonly clock: Clock,
  ) {}

  /** Loads the keys and creates one when none can sign now (a new instance, or every key retired). */
  async init(): Promise<void> {
    await this.reload();
    if (this.#currentKey() === undefined) {
      await this.#createKey();
      await this.reload();
    }
  }

  /**
   * Adds a key that signs from now on and retires every other signing key: they verify until
   * now + access-token TTL + grace and then leave the JWKS. Returns the new kid.
   */
  async rotate(accessTokenTtlSeconds: number): Promise<string> {
    if (!Number.isInteger(accessTokenTtlSeconds) || accessTokenTtlSeconds <= 0) {
      throw new RangeError('accessTokenTtlSeconds must be a positive integer');
    }
    await this.reload();
    const now = this.clock.now();
    const removeAfter = new Date(now.getTime() + (accessTokenTtlSeconds + ROTATION_GRACE_SECONDS) * 1000);
    const kid = await this.#createKey();
    for (const key of this.#keys.values()) {
      if (key.record.retiredAt === null) await this.store.retireSigningKey(key.record.kid, now, removeAfter);
    }
    await this.reload();
    return kid;
  }

  /** Re-reads the keys from the store (a server calls this every 30 s so replicas agree). */
  async reload(): Promise<void> {
    const records = await this.store.listSigningKeys();
    const keys = new Map<string, LoadedKey>();
    for (const record of records) keys.set(record.kid, loadKey(record, this.#keys.get(record.kid)));
    this.#keys = keys;
    for (const kid of this.#privateKeys.keys()) if (!keys.has(kid)) this.#privateKeys.delete(kid);
    this.#lastReloadMs = this.clock.now().getTime();
  }

  /** The newest key that may sign now. Throws when there is none: never sign with a retired key. */
  signingKey(): SigningKey {
    const key = this.#currentKey();
    if (key === undefined) {
      throw new Error(
        'no signing key is usable now: the key ring was not initialised or every key is retired',
      );
    }
    const kid = key.record.kid;
    let privateKey = this.#privateKeys.get(kid);
    if (privateKey === undefined) {
      const der = this.box.open(key.record.privateKeySealed, sealContext(kid));
      try {
        privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      } finally {
        der.fill(0);
      }
      if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`signing key ${kid} is not Ed25519`);
      this.#privateKeys.set(kid, privateKey);
    }
    return { kid, privateKey };
  }

  /**
   * The public key for `kid` while it may still verify (until removeAfter), or null. A kid this
   * replica does not know makes it reload first: another replica may have rotated.
   */
  async verificationKey(kid: string): Promise<KeyObject | null> {
    if (kid.length === 0 || kid.length > MAX_KID_LENGTH) return null;
    if (!this.#keys.has(kid) && this.clock.now().getTime() - this.#lastReloadMs >= UNKNOWN_KID_RELOAD_MS) {
      await this.reload();
    }
    const key = this.#keys.get(kid);
    return key !== undefined && this.#published(key) ? key.publicKey : null;
  }

  /** RFC 7517 JWK set of every key not yet past removeAfter, newest first: public parts only. */
  jwks(): { keys: PublishedJwk[] } {
    const keys = [...this.#keys.values()].filter((key) => this.#published(key)).sort(newestFirst);
    return { keys: keys.map((key) => ({ ...key.jwk })) };
  }

  #published(key: LoadedKey): boolean {
    const removeAfter = key.record.removeAfter;
    return removeAfter === null || removeAfter.getTime() > this.clock.now().getTime();
  }

  #currentKey(): LoadedKey | undefined {
    const now = this.clock.now().getTime();
    const usable = [...this.#keys.values()].filter(
      (key) =>
        key.record.notBefore.getTime() <= now &&
        (key.record.retiredAt === null || key.record.retiredAt.getTime() > now) &&
        this.#published(key),
    );
    return usable.sort(newestFirst)[0];
  }

  async #createKey(): Promise<string> {
    // The key is built from 32 random octets rather than generateKeyPairSync: on Node 20, exporting a
    // freshly generated key as JWK can deadlock when a GC finalises its key-generation job during the
    // export (seen in the benchmark's key making). An Ed25519 private key is just its seed (RFC 8410).
    const der = Buffer.concat([ED25519_PKCS8_PREFIX, randomBytes(32)]);
    const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
    const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
    if (typeof jwk.x !== 'string') throw new Error('Ed25519 public key export lacks x');
    const publicJwk = { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
    // RFC 7638 thumbprint: the kid names the key itself, so replicas can never mint clashing kids.
    const kid = await calculateJwkThumbprint(publicJwk, 'sha256');
    const now = this.clock.now();
    try {
      await this.store.addSigningKey({
        kid,
        algorithm: 'EdDSA',
        privateKeySealed: this.box.seal(der, sealContext(kid)),
        publicJwk: JSON.stringify(publicJwk),
        createdAt: now,
        notBefore: now,
        retiredAt: null,
        removeAfter: null,
      });
    } finally {
      der.fill(0);
    }
    return kid;
  }
}

function sealContext(kid: string): string {
  return `jwt-signing-key:${kid}`;
}

function newestFirst(a: LoadedKey, b: LoadedKey): number {
  return (
    b.record.notBefore.getTime() - a.record.notBefore.getTime() ||
    b.record.createdAt.getTime() - a.record.createdAt.getTime() ||
    // Made in the same millisecond (a rotation right after init): the one still signing comes first.
    Number(a.record.retiredAt !== null) - Number(b.record.retiredAt !== null) ||
    (a.record.kid < b.record.kid ? -1 : a.record.kid > b.record.kid ? 1 : 0)
  );
}

/** Parses a stored key; a malformed one stops the reload (fail closed) rather than vanishing silently. */
function loadKey(record: SigningKeyRecord, previous: LoadedKey | undefined): LoadedKey {
  if (previous !== undefined && previous.record.publicJwk === record.publicJwk) {
    return { ...previous, record };
  }
  if (record.algorithm !== 'EdDSA')
    throw new Error(`signing key ${record.kid} has algorithm ${record.algorithm}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(record.publicJwk);
  } catch {
    throw new Error(`signing key ${record.kid} has a public JWK that is not JSON`);
  }
  const jwk = parsed as { kty?: unknown; crv?: unknown; x?: unknown };
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') {
    throw new Error(`signing key ${record.kid} is not an Ed25519 public JWK`);
  }
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  return {
    record,
    publicKey,
    jwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: record.kid, alg: 'EdDSA', use: 'sig' },
  };
}
