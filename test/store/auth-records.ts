/**
 * Builders for the identity and credential records of the AuthStore. Every call yields fresh names,
 * ids and secret hashes, so tests never collide with each other's data.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type {
  OAuthClientRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
  TokenRecord,
  UserRecord,
} from '../../src/store/identities/auth-store.js';
import { minutesAfter, NOW } from './records.js';

function secretHash(): string {
  return randomBytes(32).toString('hex');
}

export function uniqueUserName(): string {
  return `user-${randomBytes(5).toString('hex')}`;
}

export function userRecord(overrides: Partial<UserRecord> = {}): UserRecord {
  return {
    name: uniqueUserName(),
    role: 'operator',
    passwordHash: `$argon2id$v=19$m=19456,t=2,p=1$${randomBytes(16).toString('base64')}`,
    digestSecrets: null,
    disabled: false,
    namePatterns: [],
    createdAt: NOW,
    updatedAt: NOW,
    passwordChangedAt: NOW,
    ...overrides,
  };
}

export function apiToken(owner: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return {
    id: `tok_${randomBytes(8).toString('hex')}`,
    kind: 'api',
    secretHash: secretHash(),
    owner,
    scopes: ['requests:read', 'certificates:read'],
    namePattern: null,
    usesLeft: null,
    description: 'deploy pipeline',
    createdAt: NOW,
    expiresAt: minutesAfter(NOW, 60 * 24),
    lastUsedAt: null,
    revokedAt: null,
    familyId: null,
    ...overrides,
  };
}

export function enrollmentToken(owner: string, overrides: Partial<TokenRecord> = {}): TokenRecord {
  return apiToken(owner, {
    kind: 'enrollment',
    scopes: ['requests:submit'],
    namePattern: 'web-*.example.com',
    usesLeft: 1,
    description: 'web fleet',
    ...overrides,
  });
}

export function refreshToken(overrides: Partial<RefreshTokenRecord> = {}): RefreshTokenRecord {
  return {
    id: randomUUID(),
    familyId: randomUUID(),
    secretHash: secretHash(),
    subject: uniqueUserName(),
    clientId: 'certmaster-cli',
    scopes: ['requests:read'],
    issuedAt: NOW,
    expiresAt: minutesAfter(NOW, 60 * 24 * 30),
    usedAt: null,
    revokedAt: null,
    ...overrides,
  };
}

export function oauthClient(overrides: Partial<OAuthClientRecord> = {}): OAuthClientRecord {
  return {
    clientId: `svc-${randomBytes(5).toString('hex')}`,
    secretHash: `$argon2id$v=19$m=19456,t=2,p=1$${randomBytes(16).toString('base64')}`,
    role: 'operator',
    scopes: ['requests:approve'],
    owner: 'admin',
    disabled: false,
    createdAt: NOW,
    ...overrides,
  };
}

export function signingKey(overrides: Partial<SigningKeyRecord> = {}): SigningKeyRecord {
  const kid = randomBytes(8).toString('base64url');
  return {
    kid,
    algorithm: 'EdDSA',
    privateKeySealed: `sealed:${randomBytes(48).toString('base64')}`,
    publicJwk: JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: randomBytes(32).toString('base64url'), kid }),
    createdAt: NOW,
    notBefore: minutesAfter(NOW, 10),
    retiredAt: null,
    removeAfter: null,
    ...overrides,
  };
}
