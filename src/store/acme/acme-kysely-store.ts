/**
 * `AcmeStore` over Kysely for both dialects: reads go straight to the database, writes through the
 * store's `WriteExecutor`, so they join SQLite's group commit and are durable before they resolve.
 */
import type { Kysely } from 'kysely';
import type {
  AcmeAccount,
  AcmeAccountStatus,
  AcmeAuthorization,
  AcmeOrder,
  AcmeOrderStatus,
} from '../../domain/acme.js';
import { type StoreDatabase, toMillis } from '../certificates/schema.js';
import { isUniqueViolation, type WriteExecutor } from '../certificates/write-operations.js';
import {
  accountToRow,
  authorizationToRow,
  challengesToText,
  orderToRow,
  rowToAccount,
  rowToAuthorization,
  rowToOrder,
} from './acme-schema.js';
import { AcmeKeyTakenError, type AcmeStore } from './acme-store.js';

export class KyselyAcmeStore implements AcmeStore {
  readonly #db: Kysely<StoreDatabase>;
  readonly #writer: WriteExecutor;

  constructor(db: Kysely<StoreDatabase>, writer: WriteExecutor) {
    this.#db = db;
    this.#writer = writer;
  }

  createNonce(nonce: string, expiresAt: Date, now: Date, maxNonces: number): Promise<void> {
    const db = this.#db;
    return this.#writer.execute(async (ctx) => {
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
    });
  }

  consumeNonce(nonce: string, now: Date): Promise<boolean> {
    const db = this.#db;
    return this.#writer.execute(async (ctx) => {
      const result = await ctx.run(
        db
          .deleteFrom('acme_nonces')
          .where('nonce', '=', nonce)
          .where('expires_at', '>', toMillis(now))
          .compile(),
      );
      return Number(result.numAffectedRows ?? 0n) === 1;
    });
  }

  async createAccount(account: AcmeAccount): Promise<AcmeAccount> {
    const db = this.#db;
    const stored = await this.#writer.execute(async (ctx) => {
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
    });
    // Another replica registered the same key between our read and insert: theirs is the account.
    return stored ?? (await this.findAccountByThumbprint(account.thumbprint)) ?? account;
  }

  async getAccount(id: string): Promise<AcmeAccount | null> {
    const row = await this.#db
      .selectFrom('acme_accounts')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? null : rowToAccount(row);
  }

  async findAccountByThumbprint(thumbprint: string): Promise<AcmeAccount | null> {
    const row = await this.#db
      .selectFrom('acme_accounts')
      .selectAll()
      .where('thumbprint', '=', thumbprint)
      .executeTakeFirst();
    return row === undefined ? null : rowToAccount(row);
  }

  async updateAccount(
    id: string,
    patch: { status?: AcmeAccountStatus; contact?: string[]; jwk?: string; thumbprint?: string },
  ): Promise<AcmeAccount | null> {
    const db = this.#db;
    const values: { status?: string; contact?: string; jwk?: string; thumbprint?: string } = {};
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.contact !== undefined) values.contact = JSON.stringify(patch.contact);
    if (patch.jwk !== undefined) values.jwk = patch.jwk;
    if (patch.thumbprint !== undefined) values.thumbprint = patch.thumbprint;
    if (Object.keys(values).length > 0) {
      try {
        await this.#writer.execute((ctx) =>
          ctx.run(db.updateTable('acme_accounts').set(values).where('id', '=', id).compile()),
        );
      } catch (error) {
        // Two key changes racing for one key: the loser meets the unique index, not a 500.
        if (values.thumbprint !== undefined && isUniqueViolation(error)) throw new AcmeKeyTakenError();
        throw error;
      }
    }
    return this.getAccount(id);
  }

  createOrder(order: AcmeOrder, authorizations: AcmeAuthorization[]): Promise<void> {
    const db = this.#db;
    return this.#writer.execute(async (ctx) => {
      await ctx.run(db.insertInto('acme_orders').values(orderToRow(order)).compile());
      for (const authz of authorizations) {
        await ctx.run(db.insertInto('acme_authorizations').values(authorizationToRow(authz)).compile());
      }
    });
  }

  async getOrder(id: string): Promise<AcmeOrder | null> {
    const row = await this.#db.selectFrom('acme_orders').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? null : rowToOrder(row);
  }

  async listOrders(accountId: string, limit: number): Promise<AcmeOrder[]> {
    const rows = await this.#db
      .selectFrom('acme_orders')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(rowToOrder);
  }

  async countOrdersSince(accountId: string, since: Date): Promise<number> {
    const row = await this.#db
      .selectFrom('acme_orders')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('account_id', '=', accountId)
      .where('created_at', '>=', toMillis(since))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async countValidOrdersUnder(domain: string, since: Date): Promise<{ count: number; oldest: Date | null }> {
    // Identifiers are JSON text ([{"type":"dns","value":"a.example.com"}]); names are validated host
    // names (letters, digits, hyphens, dots, a leading "*."), so they hold no LIKE wildcard to escape.
    if (!/^[a-z0-9.-]+$/.test(domain)) return { count: 0, oldest: null };
    const row = await this.#db
      .selectFrom('acme_orders')
      .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.min('updated_at').as('oldest')])
      .where('status', '=', 'valid')
      .where('updated_at', '>=', toMillis(since))
      .where((eb) =>
        eb.or([
          eb('identifiers', 'like', `%"value":"${domain}"%`),
          eb('identifiers', 'like', `%.${domain}"%`),
        ]),
      )
      .executeTakeFirst();
    const oldest = row?.oldest;
    return {
      count: Number(row?.n ?? 0),
      oldest: oldest === null || oldest === undefined ? null : new Date(Number(oldest)),
    };
  }

  async transitionOrder(
    id: string,
    from: AcmeOrderStatus,
    patch: Partial<Pick<AcmeOrder, 'status' | 'error' | 'requestId' | 'serial'>> & { updatedAt: Date },
  ): Promise<AcmeOrder | null> {
    const db = this.#db;
    const values: {
      status?: string;
      error?: string | null;
      request_id?: string | null;
      serial?: string | null;
      updated_at: number;
    } = { updated_at: toMillis(patch.updatedAt) };
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.error !== undefined) values.error = patch.error === null ? null : JSON.stringify(patch.error);
    if (patch.requestId !== undefined) values.request_id = patch.requestId;
    if (patch.serial !== undefined) values.serial = patch.serial;
    const changed = await this.#writer.execute(async (ctx) => {
      const result = await ctx.run(
        db.updateTable('acme_orders').set(values).where('id', '=', id).where('status', '=', from).compile(),
      );
      return Number(result.numAffectedRows ?? 0n) === 1;
    });
    return changed ? this.getOrder(id) : null;
  }

  async getAuthorization(id: string): Promise<AcmeAuthorization | null> {
    const row = await this.#db
      .selectFrom('acme_authorizations')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row === undefined ? null : rowToAuthorization(row);
  }

  async listAuthorizations(orderId: string): Promise<AcmeAuthorization[]> {
    const rows = await this.#db
      .selectFrom('acme_authorizations')
      .selectAll()
      .where('order_id', '=', orderId)
      .orderBy('id')
      .execute();
    return rows.map(rowToAuthorization);
  }

  saveAuthorization(authorization: AcmeAuthorization, expectedUpdatedAt: Date): Promise<boolean> {
    const db = this.#db;
    return this.#writer.execute(async (ctx) => {
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
    });
  }
}
