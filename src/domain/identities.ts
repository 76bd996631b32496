/**
 * Identities and credentials as records: accounts, API and enrollment tokens, OAuth refresh tokens
 * and clients, and access-token signing keys. They are data without I/O: src/store keeps them
 * (identities/auth-store.ts), the auth layer and the routes read them. Secrets are never stored in
 * the clear: passwords as argon2id hashes, random tokens as SHA-256 hashes, digest password
 * equivalents and JWT signing keys sealed with the server's secret box.
 */
import type { Role } from './roles.js';

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
