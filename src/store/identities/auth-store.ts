/**
 * The store's interface for identities and credentials. Secrets are never stored in the clear:
 * passwords as argon2id hashes, random tokens as SHA-256 hashes, digest password equivalents and
 * JWT signing keys sealed with the server's secret box.
 */
import type {
  OAuthClientRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
  TokenRecord,
  UserPatch,
  UserRecord,
} from '../../domain/identities.js';
import type { PageKey } from '../../domain/page-key.js';

export type {
  OAuthClientRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
  TokenRecord,
  UserPatch,
  UserRecord,
} from '../../domain/identities.js';

/** Thrown when creating something whose name or id exists already. */
export class DuplicateError extends Error {
  constructor(readonly what: string) {
    super(`${what} already exists`);
    this.name = 'DuplicateError';
  }
}

export interface AuthStore {
  createUser(user: UserRecord): Promise<void>;
  getUser(name: string): Promise<UserRecord | null>;
  /** By name; `after` a name: the page after it. */
  listUsers(filter?: { limit?: number; after?: string }): Promise<UserRecord[]>;
  updateUser(name: string, patch: UserPatch, at: Date): Promise<UserRecord | null>;
  removeUser(name: string): Promise<boolean>;

  createToken(token: TokenRecord): Promise<void>;
  getToken(id: string): Promise<TokenRecord | null>;
  findTokenBySecretHash(secretHash: string): Promise<TokenRecord | null>;
  /** Newest first; `after` where the last page stopped (created_at, id). */
  listTokens(filter: {
    owner?: string;
    kind?: TokenRecord['kind'];
    includeRevoked?: boolean;
    limit?: number;
    after?: PageKey;
  }): Promise<TokenRecord[]>;
  revokeToken(id: string, at: Date): Promise<TokenRecord | null>;
  /** Records use; implementations may skip the write when the last one is under a minute old. */
  touchToken(id: string, at: Date): Promise<void>;
  /**
   * Atomically takes one use of an enrollment token: true when it was not revoked, not expired at
   * `at`, and had uses left (or unlimited); false otherwise, changing nothing.
   */
  consumeEnrollmentUse(id: string, at: Date): Promise<boolean>;

  createRefreshToken(token: RefreshTokenRecord): Promise<void>;
  findRefreshTokenBySecretHash(secretHash: string): Promise<RefreshTokenRecord | null>;
  /** Atomically marks it used; false when it was already used or revoked (that is reuse). */
  markRefreshTokenUsed(id: string, at: Date): Promise<boolean>;
  /** Revokes every refresh token of the family and records the family as revoked (access tokens carry it). */
  revokeRefreshFamily(familyId: string, at: Date): Promise<number>;
  revokeRefreshTokensOfSubject(subject: string, at: Date): Promise<number>;
  /** Denylists an access token (RFC 7009) until it would have expired anyway. */
  revokeAccessToken(jti: string, expiresAt: Date, at: Date): Promise<void>;
  /** When the access token itself or its refresh family was revoked, or null. */
  accessTokenRevokedAt(jti: string, familyId: string | null): Promise<Date | null>;

  createClient(client: OAuthClientRecord): Promise<void>;
  getClient(clientId: string): Promise<OAuthClientRecord | null>;
  listClients(): Promise<OAuthClientRecord[]>;
  updateClient(
    clientId: string,
    patch: Partial<Pick<OAuthClientRecord, 'secretHash' | 'disabled' | 'scopes'>>,
  ): Promise<OAuthClientRecord | null>;
  removeClient(clientId: string): Promise<boolean>;

  addSigningKey(key: SigningKeyRecord): Promise<void>;
  listSigningKeys(): Promise<SigningKeyRecord[]>;
  retireSigningKey(kid: string, retiredAt: Date, removeAfter: Date): Promise<SigningKeyRecord | null>;
}
