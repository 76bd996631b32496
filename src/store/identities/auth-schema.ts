/**
 * The identity and credential tables as Kysely sees them (created by auth-migration.ts), and the
 * conversions between their rows and the records of auth-store.ts. Every value read back is checked:
 * a row this build does not understand is an error, never a guess.
 */
import type { ColumnType, InsertType, Selectable } from 'kysely';
import { ROLES, type Role } from '../../types.js';
import {
  decodeNames,
  encodeNames,
  fromMillis,
  fromOptionalMillis,
  type Millis,
  toMillis,
} from '../engine/codecs.js';
import type {
  OAuthClientRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
  TokenRecord,
  UserPatch,
  UserRecord,
} from './auth-store.js';

type OptionalMillis = ColumnType<number | string | null, number | null, number | null>;

/** 0 or 1: booleans are integers in both dialects. */
type Flag = number;

export interface UsersTable {
  name: string;
  role: string;
  password_hash: string;
  digest_secrets: string | null;
  disabled: Flag;
  /** JSON array of strings. */
  name_patterns: string;
  created_at: Millis;
  updated_at: Millis;
  password_changed_at: Millis;
}

export interface TokensTable {
  id: string;
  kind: string;
  secret_hash: string;
  owner: string;
  scopes: string;
  name_pattern: string | null;
  uses_left: number | null;
  description: string;
  created_at: Millis;
  expires_at: OptionalMillis;
  last_used_at: OptionalMillis;
  revoked_at: OptionalMillis;
  /** The sign-in (refresh family) an API token was minted from; revoking the family revokes it. */
  family_id: string | null;
}

export interface RefreshTokensTable {
  id: string;
  family_id: string;
  secret_hash: string;
  subject: string;
  client_id: string;
  scopes: string;
  issued_at: Millis;
  expires_at: Millis;
  used_at: OptionalMillis;
  revoked_at: OptionalMillis;
}

export interface RevokedRefreshFamiliesTable {
  family_id: string;
  revoked_at: Millis;
}

export interface AccessTokenDenylistTable {
  jti: string;
  expires_at: Millis;
  revoked_at: Millis;
}

export interface OAuthClientsTable {
  client_id: string;
  secret_hash: string;
  role: string;
  scopes: string;
  owner: string;
  disabled: Flag;
  created_at: Millis;
}

export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  private_key_sealed: string;
  public_jwk: string;
  created_at: Millis;
  not_before: Millis;
  retired_at: OptionalMillis;
  remove_after: OptionalMillis;
}

export interface AuthTables {
  users: UsersTable;
  tokens: TokensTable;
  refresh_tokens: RefreshTokensTable;
  revoked_refresh_families: RevokedRefreshFamiliesTable;
  access_token_denylist: AccessTokenDenylistTable;
  oauth_clients: OAuthClientsTable;
  signing_keys: SigningKeysTable;
}

/** A row as bound into an INSERT: every column present, instants as numbers. */
type InsertRow<T> = { [K in keyof T]-?: InsertType<T[K]> };

export type UserRow = InsertRow<UsersTable>;
export type TokenRow = InsertRow<TokensTable>;
export type RefreshTokenRow = InsertRow<RefreshTokensTable>;
export type OAuthClientRow = InsertRow<OAuthClientsTable>;
export type SigningKeyRow = InsertRow<SigningKeysTable>;

const KNOWN_ROLES: ReadonlySet<string> = new Set<string>(ROLES);

function decodeRole(role: string): Role {
  if (!KNOWN_ROLES.has(role)) {
    throw new TypeError(`stored role ${role} is unknown`);
  }
  return role as Role;
}

function decodeFlag(value: number): boolean {
  if (value !== 0 && value !== 1) {
    throw new TypeError(`stored flag ${value} is neither 0 nor 1`);
  }
  return value === 1;
}

function encodeFlag(value: boolean): Flag {
  return value ? 1 : 0;
}

function decodeTokenKind(kind: string): TokenRecord['kind'] {
  if (kind !== 'api' && kind !== 'enrollment') {
    throw new TypeError(`stored token kind ${kind} is unknown`);
  }
  return kind;
}

function decodeAlgorithm(algorithm: string): SigningKeyRecord['algorithm'] {
  if (algorithm !== 'EdDSA') {
    throw new TypeError(`stored signing algorithm ${algorithm} is unknown`);
  }
  return algorithm;
}

function optionalMillis(at: Date | null): number | null {
  return at === null ? null : toMillis(at);
}

export function userToRow(user: UserRecord): UserRow {
  return {
    name: user.name,
    role: user.role,
    password_hash: user.passwordHash,
    digest_secrets: user.digestSecrets,
    disabled: encodeFlag(user.disabled),
    name_patterns: encodeNames(user.namePatterns),
    created_at: toMillis(user.createdAt),
    updated_at: toMillis(user.updatedAt),
    password_changed_at: toMillis(user.passwordChangedAt),
  };
}

export function rowToUser(row: Selectable<UsersTable>): UserRecord {
  return {
    name: row.name,
    role: decodeRole(row.role),
    passwordHash: row.password_hash,
    digestSecrets: row.digest_secrets,
    disabled: decodeFlag(row.disabled),
    namePatterns: decodeNames(row.name_patterns),
    createdAt: fromMillis(row.created_at),
    updatedAt: fromMillis(row.updated_at),
    passwordChangedAt: fromMillis(row.password_changed_at),
  };
}

/** The columns a patch changes; absent (or undefined) fields stay as they are. */
export function userPatchToRow(patch: UserPatch, at: Date): Partial<UserRow> & { updated_at: number } {
  const row: Partial<UserRow> & { updated_at: number } = { updated_at: toMillis(at) };
  if (patch.role !== undefined) {
    row.role = patch.role;
  }
  if (patch.passwordHash !== undefined) {
    row.password_hash = patch.passwordHash;
  }
  if (patch.digestSecrets !== undefined) {
    row.digest_secrets = patch.digestSecrets;
  }
  if (patch.disabled !== undefined) {
    row.disabled = encodeFlag(patch.disabled);
  }
  if (patch.namePatterns !== undefined) {
    row.name_patterns = encodeNames(patch.namePatterns);
  }
  if (patch.passwordChangedAt !== undefined) {
    row.password_changed_at = toMillis(patch.passwordChangedAt);
  }
  return row;
}

export function tokenToRow(token: TokenRecord): TokenRow {
  return {
    id: token.id,
    kind: token.kind,
    secret_hash: token.secretHash,
    owner: token.owner,
    scopes: encodeNames(token.scopes),
    name_pattern: token.namePattern,
    uses_left: token.usesLeft,
    description: token.description,
    created_at: toMillis(token.createdAt),
    expires_at: optionalMillis(token.expiresAt),
    last_used_at: optionalMillis(token.lastUsedAt),
    revoked_at: optionalMillis(token.revokedAt),
    family_id: token.familyId,
  };
}

export function rowToToken(row: Selectable<TokensTable>): TokenRecord {
  return {
    id: row.id,
    kind: decodeTokenKind(row.kind),
    secretHash: row.secret_hash,
    owner: row.owner,
    scopes: decodeNames(row.scopes),
    namePattern: row.name_pattern,
    usesLeft: row.uses_left,
    description: row.description,
    createdAt: fromMillis(row.created_at),
    expiresAt: fromOptionalMillis(row.expires_at),
    lastUsedAt: fromOptionalMillis(row.last_used_at),
    revokedAt: fromOptionalMillis(row.revoked_at),
    familyId: row.family_id,
  };
}

export function refreshTokenToRow(token: RefreshTokenRecord): RefreshTokenRow {
  return {
    id: token.id,
    family_id: token.familyId,
    secret_hash: token.secretHash,
    subject: token.subject,
    client_id: token.clientId,
    scopes: encodeNames(token.scopes),
    issued_at: toMillis(token.issuedAt),
    expires_at: toMillis(token.expiresAt),
    used_at: optionalMillis(token.usedAt),
    revoked_at: optionalMillis(token.revokedAt),
  };
}

export function rowToRefreshToken(row: Selectable<RefreshTokensTable>): RefreshTokenRecord {
  return {
    id: row.id,
    familyId: row.family_id,
    secretHash: row.secret_hash,
    subject: row.subject,
    clientId: row.client_id,
    scopes: decodeNames(row.scopes),
    issuedAt: fromMillis(row.issued_at),
    expiresAt: fromMillis(row.expires_at),
    usedAt: fromOptionalMillis(row.used_at),
    revokedAt: fromOptionalMillis(row.revoked_at),
  };
}

export function clientToRow(client: OAuthClientRecord): OAuthClientRow {
  return {
    client_id: client.clientId,
    secret_hash: client.secretHash,
    role: client.role,
    scopes: encodeNames(client.scopes),
    owner: client.owner,
    disabled: encodeFlag(client.disabled),
    created_at: toMillis(client.createdAt),
  };
}

export function rowToClient(row: Selectable<OAuthClientsTable>): OAuthClientRecord {
  return {
    clientId: row.client_id,
    secretHash: row.secret_hash,
    role: decodeRole(row.role),
    scopes: decodeNames(row.scopes),
    owner: row.owner,
    disabled: decodeFlag(row.disabled),
    createdAt: fromMillis(row.created_at),
  };
}

export function clientPatchToRow(
  patch: Partial<Pick<OAuthClientRecord, 'secretHash' | 'disabled' | 'scopes'>>,
): Partial<OAuthClientRow> {
  const row: Partial<OAuthClientRow> = {};
  if (patch.secretHash !== undefined) {
    row.secret_hash = patch.secretHash;
  }
  if (patch.disabled !== undefined) {
    row.disabled = encodeFlag(patch.disabled);
  }
  if (patch.scopes !== undefined) {
    row.scopes = encodeNames(patch.scopes);
  }
  return row;
}

export function signingKeyToRow(key: SigningKeyRecord): SigningKeyRow {
  return {
    kid: key.kid,
    algorithm: key.algorithm,
    private_key_sealed: key.privateKeySealed,
    public_jwk: key.publicJwk,
    created_at: toMillis(key.createdAt),
    not_before: toMillis(key.notBefore),
    retired_at: optionalMillis(key.retiredAt),
    remove_after: optionalMillis(key.removeAfter),
  };
}

export function rowToSigningKey(row: Selectable<SigningKeysTable>): SigningKeyRecord {
  return {
    kid: row.kid,
    algorithm: decodeAlgorithm(row.algorithm),
    privateKeySealed: row.private_key_sealed,
    publicJwk: row.public_jwk,
    createdAt: fromMillis(row.created_at),
    notBefore: fromMillis(row.not_before),
    retiredAt: fromOptionalMillis(row.retired_at),
    removeAfter: fromOptionalMillis(row.remove_after),
  };
}
