/**
 * The ACME state's writes, for both dialects, as named operations of the write registry
 * (src/store/write-registry.ts): each runs inside the transaction (or group-commit savepoint) its
 * `WriteExecutor` gives it, which may be in the writer thread, so arguments and results are plain data.
 * `db` only compiles queries; they run through `ctx`.
 */
import type { Kysely } from 'kysely';
import type { AcmeAccount, AcmeAuthorization, AcmeOrder, AcmeOrderStatus } from '../../domain/acme.js';
import type { StoreDatabase } from '../certificates/schema.js';
import { toMillis } from '../certificates/schema.js';
import { isUniqueViolation, type WriteContext } from '../certificates/write-operations.js';
import {
  accountToRow,
  authorizationToRow,
  challengesToText,
  orderToRow,
  rowToAccount,
} from './acme-schema.js';

/** Column values of an account update, already encoded. */
export interface AccountValues {
  status?: string;
  contact?: string;
  jwk?: string;
  thumbprint?: string;
}

/** Column values of an order transition, already encoded. */
export interface OrderValues {
  status?: string;
  error?: string | null;
  request_id?: string | null;
  serial?: string | null;
  updated_at: number;
}

export async function createNonce(
  ctx: WriteContext,
  db: Kysely<StoreDatabase>,
  nonce: string,
  expiresAt: Date,
  now: Date,
  maxNonces: number,
): Promise<void> {
  await ctx.run(db.deleteFrom('acme_nonces').where('expires_at', '<=', toMillis(now)).compile());
  // Bounded: an unauthenticated caller can ask for nonces at will, so beyond the cap the oldest go
  // (their clients meet badNonce and retry with a fresh one, RFC 8555 §6.5).
  const { rows } = await ctx.run(
    db
      .selectFrom('acme_nonces')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .compile(),
  );
  const excess = Number(rows[0]?.n ?? 0) - maxNonces + 1;
  if (excess > 0) {
    await ctx.run(
      db
        .deleteFrom('acme_nonces')
        .where('nonce', 'in', (eb) =>
          eb.selectFrom('acme_nonces').select('nonce').orderBy('expires_at').limit(excess),
        )
        .compile(),
    );
  }
  await ctx.run(
    db
      .insertInto('acme_nonces')
      .values({ nonce, expires_at: toMillis(expiresAt) })
      .compile(),
  );
}

export async function consumeNonce(
  ctx: WriteContext,
  db: Kysely<StoreDatabase>,
  nonce: string,
  now: Date,
): Promise<boolean> {
  const result = await ctx.run(
    db.deleteFrom('acme_nonces').where('nonce', '=', nonce).where('expires_at', '>', toMillis(now)).compile(),
  );
  return Number(result.numAffectedRows ?? 0n) === 1;
}

/** The account already registered for the key, else `account` once inserted; null on a lost race. */
export async function createAccount(
  ctx: WriteContext,
  db: Kysely<StoreDatabase>,
  account: AcmeAccount,
): Promise<AcmeAccount | null> {
  const { rows } = await ctx.run(
    db.selectFrom('acme_accounts').selectAll().where('thumbprint', '=', account.thumbprint).compile(),
  );
  if (rows[0] !== undefined) return rowToAccount(rows[0]);
  try {
    await ctx.run(db.insertInto('acme_accounts').values(accountToRow(account)).compile());
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
  return account;
}

export async function updateAccount(
  ctx: WriteContext,
  db: Kysely<StoreDatabase>,
  id: string,
  values: AccountValues,
): Promise<void> {
  await ctx.run(db.updateTable('acme_accounts').set(values).where('id', '=', id).compile());
}

export async function createOrder(
  ctx: WriteContext,
  db: Kysely<StoreDatabase>,
  order: AcmeOrder,
  authorizations: AcmeAuthorization[],
): Promise<void> {
  await ctx.run(db.insertInto('acme_orders').values(orderToRow(order)).compile());
  for (const authz of authorizations) {
    await ctx.run(db.insertInto('acme_authorizations').values(authorizationToRow(authz)).compile());
  }
}

/** True when the order was in state `from` and now carries `values`. */
export async function transitionOrder(
  ctx: WriteContext,
  db: Kysely<StoreDatabase>,
  id: string,
  from: AcmeOrderStatus,
  values: OrderValues,
): Promise<boolean> {
  const result = await ctx.run(
    db.updateTable('acme_orders').set(values).where('id', '=', id).where('status', '=', from).compile(),
  );
  return Number(result.numAffectedRows ?? 0n) === 1;
}

/** True when the authorization was last updated at `expectedUpdatedAt` and now is `authorization`. */
export async function saveAuthorization(
  ctx: WriteContext,
  db: Kysely<StoreDatabase>,
  authorization: AcmeAuthorization,
  expectedUpdatedAt: Date,
): Promise<boolean> {
  const result = await ctx.run(
    db
      .updateTable('acme_authorizations')
      .set({
        status: authorization.status,
        challenges: challengesToText(authorization.challenges),
        updated_at: toMillis(authorization.updatedAt),
      })
      .where('id', '=', authorization.id)
      .where('updated_at', '=', toMillis(expectedUpdatedAt))
      .compile(),
  );
  return Number(result.numAffectedRows ?? 0n) === 1;
}
