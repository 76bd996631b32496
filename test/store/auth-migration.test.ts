import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { requestToRow, type StoreDatabase } from '../../src/store/certificates/schema.js';
import {
  CachedSqliteDatabase,
  ImmediateSqliteDialect,
  openSqliteFile,
} from '../../src/store/engine/sqlite-database.js';
import {
  LATEST_SCHEMA_VERSION,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  MIGRATIONS,
} from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import { userRecord } from './auth-records.js';
import { allBackends } from './backends.js';
import { fixedClock, pendingRequest } from './records.js';

/** Opens the database as the release before schema version 2 did. */
function openAsVersion1(url: string): Kysely<StoreDatabase> {
  if (url.startsWith('sqlite:')) {
    const database = new CachedSqliteDatabase(openSqliteFile(url.slice('sqlite:'.length)));
    return new Kysely<StoreDatabase>({ dialect: new ImmediateSqliteDialect({ database }) });
  }
  return new Kysely<StoreDatabase>({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
  });
}

for (const backend of allBackends()) {
  describe(`schema version 2 on ${backend.name}`, () => {
    before(() => backend.setUp());
    after(() => backend.tearDown());

    it('upgrades a version 1 database, keeping its requests', async () => {
      const url = await backend.freshUrl();
      const request = pendingRequest();
      const v1 = openAsVersion1(url);
      try {
        const migrator = new Migrator({
          db: v1,
          provider: { getMigrations: async () => MIGRATIONS },
          migrationTableName: MIGRATION_TABLE,
          migrationLockTableName: MIGRATION_LOCK_TABLE,
        });
        const { error } = await migrator.migrateTo('0001_initial');
        assert.equal(error, undefined);
        // The profile column came with migration 0004.
        const { profile: _profile, ...v1Row } = requestToRow(request);
        await v1.insertInto('requests').values(v1Row).execute();
        const tables = await v1.introspection.getTables();
        assert.ok(!tables.some((table) => table.name === 'users'));
      } finally {
        await v1.destroy();
      }

      const store = await openStore(url, { clock: fixedClock });
      try {
        assert.deepEqual(await store.health(), { ok: true, schemaVersion: LATEST_SCHEMA_VERSION });
        assert.deepEqual(await store.getRequest(request.id), request);
        const user = userRecord();
        await store.createUser(user);
        assert.deepEqual(await store.getUser(user.name), user);
      } finally {
        await store.close();
      }

      const check = openAsVersion1(url);
      try {
        const applied = await sql<{
          name: string;
        }>`select name from ${sql.table(MIGRATION_TABLE)} order by name`.execute(check);
        assert.deepEqual(
          applied.rows.map((row) => row.name),
          Object.keys(MIGRATIONS).sort(),
        );
      } finally {
        await check.destroy();
      }
    });
  });
}
