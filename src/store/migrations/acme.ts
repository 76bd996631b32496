/**
 * Schema version 6: ACME (RFC 8555) state. Instants are integer milliseconds and lists JSON text, as
 * in the earlier versions, so one row shape serves SQLite and PostgreSQL.
 */
import type { Kysely } from 'kysely';

export async function createAcmeTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('acme_nonces')
    .addColumn('nonce', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('acme_nonces_expires_at').on('acme_nonces').column('expires_at').execute();

  await db.schema
    .createTable('acme_accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('thumbprint', 'text', (c) => c.notNull().unique())
    .addColumn('jwk', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('contact', 'text', (c) => c.notNull())
    .addColumn('name_patterns', 'text')
    .addColumn('eab_token_id', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('acme_orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('identifiers', 'text', (c) => c.notNull())
    .addColumn('authorization_ids', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('request_id', 'text')
    .addColumn('serial', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('acme_orders_account_created')
    .on('acme_orders')
    .columns(['account_id', 'created_at'])
    .execute();
  await db.schema.createIndex('acme_orders_serial').on('acme_orders').column('serial').execute();

  await db.schema
    .createTable('acme_authorizations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('wildcard', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('token', 'text', (c) => c.notNull())
    .addColumn('challenges', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('acme_authorizations_order_id')
    .on('acme_authorizations')
    .column('order_id')
    .execute();
}
