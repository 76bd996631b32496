/**
 * Schema migrations, defined in code so they ship inside the compiled build. Names sort in the order they
 * apply; the number before the underscore is the schema version. Never edit a released migration: add one.
 */
import { type Kysely, type Migration, Migrator, sql } from 'kysely';
import { createAcmeTables } from './acme.js';
import { createAuditTables } from './audit.js';
import { createAuthTables } from './auth.js';
import { createRevocationTables } from './revocation.js';

export const MIGRATION_TABLE = 'certmaster_migration';
export const MIGRATION_LOCK_TABLE = 'certmaster_migration_lock';

/** Every migration by name; exported so tests can build a database as an older release left it. */
export const MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0001_initial': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createTable('requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('common_name', 'text', (c) => c.notNull())
        .addColumn('dns_names', 'text', (c) => c.notNull())
        .addColumn('ip_addresses', 'text', (c) => c.notNull())
        .addColumn('csr_pem', 'text', (c) => c.notNull())
        .addColumn('csr_sha256', 'text', (c) => c.notNull().unique())
        .addColumn('key_description', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('requester', 'text', (c) => c.notNull())
        .addColumn('client_address', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_by', 'text')
        .addColumn('rejection_reason', 'text')
        .addColumn('serial', 'text')
        .addCheckConstraint('requests_state_known', sql`state in ('pending', 'issued', 'rejected')`)
        .execute();
      // At most one pending request per name, enforced by the database so that it holds across
      // processes (CLI next to the server) and replicas, not just inside one event loop.
      await db.schema
        .createIndex('requests_one_pending_per_common_name')
        .on('requests')
        .column('common_name')
        .unique()
        .where(sql.ref('state'), '=', sql.lit('pending'))
        .execute();
      await db.schema
        .createIndex('requests_state_created_at')
        .on('requests')
        .columns(['state', 'created_at'])
        .execute();
      await db.schema.createIndex('requests_common_name').on('requests').column('common_name').execute();

      await db.schema
        .createTable('certificates')
        .addColumn('serial', 'text', (c) => c.primaryKey())
        // No foreign key: cleaning a host removes its requests, but the certificate keeps naming the
        // request it came from so the audit trail still joins.
        .addColumn('request_id', 'text')
        .addColumn('common_name', 'text', (c) => c.notNull())
        .addColumn('dns_names', 'text', (c) => c.notNull())
        .addColumn('ip_addresses', 'text', (c) => c.notNull())
        .addColumn('not_before', 'bigint', (c) => c.notNull())
        .addColumn('not_after', 'bigint', (c) => c.notNull())
        .addColumn('certificate_pem', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .addColumn('revocation_reason', 'text')
        .execute();
      await db.schema
        .createIndex('certificates_common_name')
        .on('certificates')
        .column('common_name')
        .execute();
      await db.schema.createIndex('certificates_not_after').on('certificates').column('not_after').execute();
      await db.schema
        .createIndex('certificates_created_at')
        .on('certificates')
        .column('created_at')
        .execute();
    },
  },
  '0002_auth': { up: createAuthTables },
  '0003_audit': { up: createAuditTables },
  '0004_revocation': { up: createRevocationTables },
  // The certificate profile a request asks for (EST labels); null is the default profile.
  '0005_request_profile': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('requests').addColumn('profile', 'text').execute();
    },
  },
  '0006_acme': { up: createAcmeTables },
  // Lineage: which certificate a renewal replaced, so operators can follow a host's certificates.
  '0007_renewal_lineage': {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('certificates').addColumn('renewed_from', 'text').execute();
      await db.schema
        .createIndex('certificates_renewed_from')
        .on('certificates')
        .column('renewed_from')
        .execute();
    },
  },
  '0008_token_family': {
    async up(db: Kysely<unknown>): Promise<void> {
      // API tokens minted from a sign-in name its refresh family, so that revoking it revokes them.
      await db.schema.alterTable('tokens').addColumn('family_id', 'text').execute();
      await db.schema.createIndex('tokens_family_id').on('tokens').column('family_id').execute();
    },
  },
};

function versionOf(migrationName: string): number {
  const match = /^(\d+)_/.exec(migrationName);
  return match?.[1] === undefined ? Number.NaN : Number.parseInt(match[1], 10);
}

const KNOWN_NAMES: ReadonlySet<string> = new Set(Object.keys(MIGRATIONS));

/** The schema version this build creates and understands. */
export const LATEST_SCHEMA_VERSION = Math.max(...Object.keys(MIGRATIONS).map(versionOf));

/** The database was migrated by a newer certmaster: opening it with this one could corrupt it. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly databaseVersion: number,
    readonly supportedVersion: number,
  ) {
    super(
      `the database schema (version ${Number.isNaN(databaseVersion) ? 'unknown' : databaseVersion}) is newer than ` +
        `this certmaster supports (version ${supportedVersion}); upgrade certmaster before opening this store`,
    );
    this.name = 'SchemaTooNewError';
  }
}

async function executedMigrationNames<DB>(db: Kysely<DB>): Promise<string[]> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((table) => table.name === MIGRATION_TABLE)) {
    return [];
  }
  return readMigrationNames(db);
}

async function readMigrationNames<DB>(db: Kysely<DB>): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(db);
  return result.rows.map((row) => row.name);
}

function schemaVersionOf(names: readonly string[]): number {
  const unknown = names.filter((name) => !KNOWN_NAMES.has(name));
  if (unknown.length > 0) {
    throw new SchemaTooNewError(Math.max(...unknown.map(versionOf)), LATEST_SCHEMA_VERSION);
  }
  return names.length === 0 ? 0 : Math.max(...names.map(versionOf));
}

/** The applied schema version of an open store (whose migration table exists). */
export async function currentSchemaVersion<DB>(db: Kysely<DB>): Promise<number> {
  return schemaVersionOf(await readMigrationNames(db));
}

/**
 * Applies pending migrations and returns the resulting schema version. Refuses a schema newer than this
 * build; does nothing (beyond one read) when the schema is current, so concurrent opens stay cheap.
 */
export async function migrateToLatest<DB>(db: Kysely<DB>): Promise<number> {
  const applied = schemaVersionOf(await executedMigrationNames(db));
  if (applied === LATEST_SCHEMA_VERSION) {
    return applied;
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => MIGRATIONS },
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: MIGRATION_LOCK_TABLE,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    // A newer process may have migrated between our check and the migrator's: say so plainly.
    schemaVersionOf(await executedMigrationNames(db));
    const failed = results?.find((result) => result.status === 'Error')?.migrationName;
    const cause = error instanceof Error ? error.message : String(error);
    const which = failed === undefined ? 'store migration' : `store migration ${failed}`;
    throw new Error(`${which} failed: ${cause}`, { cause: error });
  }
  return currentSchemaVersion(db);
}
