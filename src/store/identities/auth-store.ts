/**
 * The store's interface for identities and credentials. Secrets are never stored in the clear:
 * passwords as argon2id hashes, random tokens as SHA-256 hashes, digest password equivalents and
 * JWT signing keys sealed with the server's secret box.
 */
import type { PageKey } from '../../domain/page-key.js';
import type { Role } from '../../types.js';

export interface UserRecord {
  /** 1..64 characters, no ":" (RFC 7617 §2: the user-id cannot contain a colon), no control characters. */
  name: string;
  role: Role;
  /** argon2id PHC string. */
  passwordHash: string;
  /** Digest (RFC 7616) password equivalents H(A1), sealed; null when digest is not enabled for this account. */
  digestSecrets: string | null;
  disabled: boolean;
  /** Host accounts: the names this account may obtain certificates for (patterns as in ra.autosign). */
  namePatterns: string[];
  createdAt: Date;
  updatedAt: Date;
  passwordChangedAt: Date;
}

export type UserPatch = Partial<
  Pick<
    UserRecord,
    'role' | 'passwordHash' | 'digestSecrets' | 'disabled' | 'namePatterns' | 'passwordChangedAt'
  >
>;

/** API tokens (act as their owner, with a subset of its scopes) and enrollment tokens (enroll matching names). */
export interface TokenRecord {
  /** Public id, shown in lists and the audit log; the secret is never stored. */
  id: string;
  kind: 'api' | 'enrollment';
  /** Lower-case hex SHA-256 of the whole token string (256 random bits: a fast hash is right here). */
  secretHash: string;
  /** The account that created it; API tokens act as this account. */
  owner: string;
  scopes: string[];
  /** Enrollment tokens: the names they allow, e.g. "web-*.example.com". */
  namePattern: string | null;
  /** Enrollment tokens: remaining uses; null means unlimited. */
  usesLeft: number | null;
  description: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  /** The sign-in (OAuth refresh family) it was minted from, null when durable; revoking the family revokes it. */
  familyId: string | null;
}

/** OAuth 2 refresh tokens: opaque, stored hashed, rotated on every use (RFC 9700 §4.14). */
export interface RefreshTokenRecord {
  id: string;
  /** Every token rotated from one login shares the family; reuse of a rotated one revokes it all. */
  familyId: string;
  secretHash: string;
  /** The account name (password grant) the tokens act for. */
  subject: string;
  clientId: string;
  scopes: string[];
  issuedAt: Date;
  expiresAt: Date;
  /** Set when it was exchanged for a new one; presenting it again is reuse. */
  usedAt: Date | null;
  revokedAt: Date | null;
}

/** Service accounts for the client_credentials grant (RFC 6749 §4.4). */
export interface OAuthClientRecord {
  clientId: string;
  /** argon2id PHC string of the client secret. */
  secretHash: string;
  /** The role the service account acts with. */
  role: Role;
  scopes: string[];
  owner: string;
  disabled: boolean;
  createdAt: Date;
}

/** Keys that sign access tokens (EdDSA). Published in the JWKS from createdAt, used to sign from notBefore. */
export interface SigningKeyRecord {
  kid: string;
  algorithm: 'EdDSA';
  /** PKCS#8 private key, sealed with the server's secret box. */
  privateKeySealed: string;
  /** The public JWK, JSON text. */
  publicJwk: string;
  createdAt: Date;
  notBefore: Date;
  /** No longer signs from this time; still verifies until removeAfter. */
  retiredAt: Date | null;
  /** Dropped from the JWKS after this time (when every token it signed has expired). */
  removeAfter: Date | null;
}

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
