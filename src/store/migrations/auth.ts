/**
 * Schema version 2: identities and credentials (see auth-store.ts). As in version 1, instants are
 * integer milliseconds (BIGINT) and lists are JSON text; booleans are 0/1 integers in both dialects, so
 * one row shape serves SQLite and PostgreSQL. Secrets appear only hashed or sealed.
 */
import { type Kysely, sql } from 'kysely';

export async function createAuthTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('digest_secrets', 'text')
    .addColumn('disabled', 'integer', (c) => c.notNull())
    .addColumn('name_patterns', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('password_changed_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('users_disabled_flag', sql`disabled in (0, 1)`)
    .execute();

  // API and enrollment tokens share one table: one lookup by secret hash authenticates either kind.
  await db.schema
    .createTable('tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('name_pattern', 'text')
    .addColumn('uses_left', 'integer')
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addCheckConstraint('tokens_kind_known', sql`kind in ('api', 'enrollment')`)
    .addCheckConstraint('tokens_uses_left_not_negative', sql`uses_left is null or uses_left >= 0`)
    .execute();
  await db.schema.createIndex('tokens_owner').on('tokens').column('owner').execute();

  await db.schema
    .createTable('refresh_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('family_id', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('issued_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();
  await db.schema.createIndex('refresh_tokens_family_id').on('refresh_tokens').column('family_id').execute();
  await db.schema.createIndex('refresh_tokens_subject').on('refresh_tokens').column('subject').execute();

  // A revoked family outlives its refresh tokens' rows being revoked: access tokens name their family,
  // and a token rotated into the family after the revocation must die with it too.
  await db.schema
    .createTable('revoked_refresh_families')
    .addColumn('family_id', 'text', (c) => c.primaryKey())
    .addColumn('revoked_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('access_token_denylist')
    .addColumn('jti', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('access_token_denylist_expires_at')
    .on('access_token_denylist')
    .column('expires_at')
    .execute();

  await db.schema
    .createTable('oauth_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('disabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('oauth_clients_disabled_flag', sql`disabled in (0, 1)`)
    .execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('algorithm', 'text', (c) => c.notNull())
    .addColumn('private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('retired_at', 'bigint')
    .addColumn('remove_after', 'bigint')
    .execute();
}
