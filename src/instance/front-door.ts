/**
 * The front door's parts wired together for one data directory: the secret box, password hasher,
 * throttle, digest nonces, signing keys, tokens and the authenticator.
 */

import type { AccountDeps } from '../auth/accounts.js';
import { Authenticator, type AuthSettings } from '../auth/authenticator.js';
import { FailureLimiter } from '../auth/limiter.js';
import { PasswordHasher } from '../auth/passwords.js';
import { ClientCertificateVerifier } from '../auth/schemes/client-certificate.js';
import type { DigestAlgorithm } from '../auth/schemes/digest.js';
import { DigestNonces } from '../auth/schemes/digest-nonce.js';
import { SecretBox } from '../auth/secret-box.js';
import { Tarpit } from '../auth/tarpit.js';
import { AccessTokens } from '../auth/tokens/access-tokens.js';
import { SigningKeyRing } from '../auth/tokens/keyring.js';
import { OpaqueTokens } from '../auth/tokens/opaque-tokens.js';
import { RefreshTokens } from '../auth/tokens/refresh-tokens.js';
import { certmasterTokenRegistry, type TokenRegistry } from '../auth/tokens/token-registry.js';
import type { Config } from '../config/schema.js';
import { parseGracePeriod } from '../ra/renewal-policy.js';
import type { CertmasterStore } from '../store/open.js';
import type { Clock } from '../types.js';
import { ensurePrivateDir } from '../util/durable-files.js';
import { storeCertificateStatus } from './certificate-status.js';
import type { DataLayout } from './layout.js';

export interface FrontDoorParts {
  box: SecretBox;
  hasher: PasswordHasher;
  limiter: FailureLimiter;
  nonces: DigestNonces;
  keyring: SigningKeyRing;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  opaqueTokens: OpaqueTokens;
  /** Which kind a token is, and what verifying, introspecting or revoking it means. */
  tokens: TokenRegistry;
  authenticator: Authenticator;
  accounts: AccountDeps;
}

export function authSettings(config: Config): AuthSettings {
  return {
    realm: config.auth.realm,
    basic: config.auth.basic,
    digest: config.auth.digest,
    digestAlgorithms: config.auth.digest_algorithms.split(',').map((a) => a.trim()) as DigestAlgorithm[],
    bearer: config.auth.bearer,
  };
}

/**
 * authSettings of the running configuration, made again only when the configuration is replaced (a
 * reload): every request reads them, and the authenticator keeps its prebuilt challenges per settings object.
 */
function lastAuthSettings(config: () => Config): () => AuthSettings {
  let from: Config | null = null;
  let settings: AuthSettings | null = null;
  return () => {
    const current = config();
    if (settings === null || current !== from) {
      settings = authSettings(current);
      from = current;
    }
    return settings;
  };
}

/** The sealing key, created on first use so that data directories from before it still open. */
export function openSecretBox(layout: DataLayout): SecretBox {
  ensurePrivateDir(layout.secretsDir);
  return SecretBox.loadOrCreate(layout.authKey);
}

export async function assembleFrontDoor(opts: {
  layout: DataLayout;
  store: CertmasterStore;
  config: () => Config;
  clock: Clock;
  issuer: string;
  /** The CA certificate, DER: client certificates it issued authenticate their hosts (mutual TLS). */
  caCertificateDer?: Buffer;
}): Promise<FrontDoorParts> {
  const { store, clock, config } = opts;
  const initial = config();
  const box = openSecretBox(opts.layout);
  const hasher = new PasswordHasher({
    params: {
      memoryKiB: initial.auth.argon2_memory_kib,
      iterations: initial.auth.argon2_iterations,
      parallelism: initial.auth.argon2_parallelism,
    },
    clock,
  });
  const limiter = new FailureLimiter({
    clock,
    freeFailures: initial.auth.throttle_free_failures,
    maxDelaySeconds: initial.auth.throttle_max_delay_seconds,
  });
  const tarpit = new Tarpit({ delayMs: () => config().auth.throttle_tarpit_ms });
  const nonces = new DigestNonces({
    key: box.deriveKey('digest-nonce'),
    clock,
    lifetimeSeconds: initial.auth.nonce_lifetime_seconds,
  });
  const keyring = new SigningKeyRing(store, box, clock);
  await keyring.init();
  const accessTokens = new AccessTokens({ keyring, store, clock, issuer: opts.issuer });
  const refreshTokens = new RefreshTokens({
    store,
    clock,
    ttlSeconds: initial.auth.refresh_token_ttl_days * 86400,
    familyLifetimeSeconds: initial.auth.refresh_token_ttl_days * 86400,
  });
  const opaqueTokens = new OpaqueTokens({ store, clock });
  const tokens = certmasterTokenRegistry({ accessTokens, refreshTokens, opaqueTokens, store, clock });
  const authenticator = new Authenticator({
    store,
    hasher,
    limiter,
    tarpit,
    nonces,
    box,
    clock,
    settings: lastAuthSettings(config),
    tokens,
    ...(opts.caCertificateDer
      ? {
          clientCertificates: new ClientCertificateVerifier({
            caCertificateDer: opts.caCertificateDer,
            status: storeCertificateStatus(store),
            clock,
            renewalGraceMs: () => parseGracePeriod(config().ra.renew_after_expiry),
          }),
        }
      : {}),
  });
  const accounts: AccountDeps = { store, hasher, box, clock, realm: () => config().auth.realm };
  return {
    box,
    hasher,
    limiter,
    nonces,
    keyring,
    accessTokens,
    refreshTokens,
    opaqueTokens,
    tokens,
    authenticator,
    accounts,
  };
}
