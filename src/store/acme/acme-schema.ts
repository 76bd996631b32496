/**
 * The ACME tables as Kysely sees them (created by acme-migration.ts) and the conversions between their
 * rows and the records of acme/types.ts. A row this build does not understand is an error, never a guess.
 */
import type { Insertable, Selectable } from 'kysely';
import type {
  AcmeAccount,
  AcmeAccountStatus,
  AcmeAuthorization,
  AcmeAuthorizationStatus,
  AcmeChallenge,
  AcmeErrorRecord,
  AcmeIdentifier,
  AcmeOrder,
  AcmeOrderStatus,
} from '../../domain/acme.js';
import { fromMillis, type Millis, toMillis } from '../engine/codecs.js';

export interface AcmeNoncesTable {
  nonce: string;
  expires_at: Millis;
}

export interface AcmeAccountsTable {
  id: string;
  thumbprint: string;
  jwk: string;
  status: string;
  contact: string;
  name_patterns: string | null;
  eab_token_id: string | null;
  created_at: Millis;
}

export interface AcmeOrdersTable {
  id: string;
  account_id: string;
  status: string;
  identifiers: string;
  authorization_ids: string;
  expires_at: Millis;
  error: string | null;
  request_id: string | null;
  serial: string | null;
  created_at: Millis;
  updated_at: Millis;
}

export interface AcmeAuthorizationsTable {
  id: string;
  order_id: string;
  account_id: string;
  identifier: string;
  wildcard: number;
  status: string;
  token: string;
  challenges: string;
  expires_at: Millis;
  updated_at: Millis;
}

export interface AcmeTables {
  acme_nonces: AcmeNoncesTable;
  acme_accounts: AcmeAccountsTable;
  acme_orders: AcmeOrdersTable;
  acme_authorizations: AcmeAuthorizationsTable;
}

const ACCOUNT_STATUSES: ReadonlySet<string> = new Set(['valid', 'deactivated', 'revoked']);
const ORDER_STATUSES: ReadonlySet<string> = new Set(['pending', 'ready', 'processing', 'valid', 'invalid']);
const AUTHZ_STATUSES: ReadonlySet<string> = new Set([
  'pending',
  'valid',
  'invalid',
  'deactivated',
  'expired',
  'revoked',
]);

function known<T extends string>(set: ReadonlySet<string>, value: string, what: string): T {
  if (!set.has(value)) throw new Error(`unknown ${what} "${value}" in the store`);
  return value as T;
}

function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

export function rowToAccount(row: Selectable<AcmeAccountsTable>): AcmeAccount {
  return {
    id: row.id,
    thumbprint: row.thumbprint,
    jwk: row.jwk,
    status: known<AcmeAccountStatus>(ACCOUNT_STATUSES, row.status, 'ACME account status'),
    contact: parseJson<string[]>(row.contact),
    namePatterns: row.name_patterns === null ? null : parseJson<string[]>(row.name_patterns),
    eabTokenId: row.eab_token_id,
    createdAt: fromMillis(row.created_at),
  };
}

export function accountToRow(account: AcmeAccount): Insertable<AcmeAccountsTable> {
  return {
    id: account.id,
    thumbprint: account.thumbprint,
    jwk: account.jwk,
    status: account.status,
    contact: JSON.stringify(account.contact),
    name_patterns: account.namePatterns === null ? null : JSON.stringify(account.namePatterns),
    eab_token_id: account.eabTokenId,
    created_at: toMillis(account.createdAt),
  };
}

export function rowToOrder(row: Selectable<AcmeOrdersTable>): AcmeOrder {
  return {
    id: row.id,
    accountId: row.account_id,
    status: known<AcmeOrderStatus>(ORDER_STATUSES, row.status, 'ACME order status'),
    identifiers: parseJson<AcmeIdentifier[]>(row.identifiers),
    authorizationIds: parseJson<string[]>(row.authorization_ids),
    expiresAt: fromMillis(row.expires_at),
    error: row.error === null ? null : parseJson<AcmeErrorRecord>(row.error),
    requestId: row.request_id,
    serial: row.serial,
    createdAt: fromMillis(row.created_at),
    updatedAt: fromMillis(row.updated_at),
  };
}

export function orderToRow(order: AcmeOrder): Insertable<AcmeOrdersTable> {
  return {
    id: order.id,
    account_id: order.accountId,
    status: order.status,
    identifiers: JSON.stringify(order.identifiers),
    authorization_ids: JSON.stringify(order.authorizationIds),
    expires_at: toMillis(order.expiresAt),
    error: order.error === null ? null : JSON.stringify(order.error),
    request_id: order.requestId,
    serial: order.serial,
    created_at: toMillis(order.createdAt),
    updated_at: toMillis(order.updatedAt),
  };
}

interface StoredChallenge extends Omit<AcmeChallenge, 'validated'> {
  validated: number | null;
}

export function rowToAuthorization(row: Selectable<AcmeAuthorizationsTable>): AcmeAuthorization {
  return {
    id: row.id,
    orderId: row.order_id,
    accountId: row.account_id,
    identifier: parseJson<AcmeIdentifier>(row.identifier),
    wildcard: row.wildcard === 1,
    status: known<AcmeAuthorizationStatus>(AUTHZ_STATUSES, row.status, 'ACME authorization status'),
    token: row.token,
    challenges: parseJson<StoredChallenge[]>(row.challenges).map((c) => ({
      ...c,
      validated: c.validated === null ? null : new Date(c.validated),
    })),
    expiresAt: fromMillis(row.expires_at),
    updatedAt: fromMillis(row.updated_at),
  };
}

export function challengesToText(challenges: AcmeChallenge[]): string {
  const stored: StoredChallenge[] = challenges.map((c) => ({
    ...c,
    validated: c.validated === null ? null : c.validated.getTime(),
  }));
  return JSON.stringify(stored);
}

export function authorizationToRow(authz: AcmeAuthorization): Insertable<AcmeAuthorizationsTable> {
  return {
    id: authz.id,
    order_id: authz.orderId,
    account_id: authz.accountId,
    identifier: JSON.stringify(authz.identifier),
    wildcard: authz.wildcard ? 1 : 0,
    status: authz.status,
    token: authz.token,
    challenges: challengesToText(authz.challenges),
    expires_at: toMillis(authz.expiresAt),
    updated_at: toMillis(authz.updatedAt),
  };
}
