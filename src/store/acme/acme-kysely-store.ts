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
import { isUniqueViolation } from '../certificates/write-operations.js';
import type { WriteExecutor } from '../write-registry.js';
import { rowToAccount, rowToAuthorization, rowToOrder } from './acme-schema.js';
import { AcmeKeyTakenError, type AcmeStore } from './acme-store.js';
import type { AccountValues, OrderValues } from './acme-write-operations.js';

export class KyselyAcmeStore implements AcmeStore {
  readonly #db: Kysely<StoreDatabase>;
  readonly #writer: WriteExecutor;

  constructor(db: Kysely<StoreDatabase>, writer: WriteExecutor) {
    this.#db = db;
    this.#writer = writer;
  }

  createNonce(nonce: string, expiresAt: Date, now: Date, maxNonces: number): Promise<void> {
    return this.#writer.execute('createNonce', nonce, expiresAt, now, maxNonces);
  }

  consumeNonce(nonce: string, now: Date): Promise<boolean> {
    return this.#writer.execute('consumeNonce', nonce, now);
  }

  async createAccount(account: AcmeAccount): Promise<AcmeAccount> {
    const stored = await this.#writer.execute('createAccount', account);
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
    const values: AccountValues = {};
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.contact !== undefined) values.contact = JSON.stringify(patch.contact);
    if (patch.jwk !== undefined) values.jwk = patch.jwk;
    if (patch.thumbprint !== undefined) values.thumbprint = patch.thumbprint;
    if (Object.keys(values).length > 0) {
      try {
        await this.#writer.execute('updateAccount', id, values);
      } catch (error) {
        // Two key changes racing for one key: the loser meets the unique index, not a 500.
        if (values.thumbprint !== undefined && isUniqueViolation(error)) throw new AcmeKeyTakenError();
        throw error;
      }
    }
    return this.getAccount(id);
  }

  createOrder(order: AcmeOrder, authorizations: AcmeAuthorization[]): Promise<void> {
    return this.#writer.execute('createOrder', order, authorizations);
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
    const values: OrderValues = { updated_at: toMillis(patch.updatedAt) };
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.error !== undefined) values.error = patch.error === null ? null : JSON.stringify(patch.error);
    if (patch.requestId !== undefined) values.request_id = patch.requestId;
    if (patch.serial !== undefined) values.serial = patch.serial;
    const changed = await this.#writer.execute('transitionOrder', id, from, values);
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
    return this.#writer.execute('saveAuthorization', authorization, expectedUpdatedAt);
  }
}
