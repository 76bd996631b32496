/**
 * Giving deleted rows' space back to the filesystem on SQLite. A DELETE only moves pages to the free
 * list inside the file; with `auto_vacuum = INCREMENTAL` (set on every new database, see
 * sqlite-database.ts) `PRAGMA incremental_vacuum` moves the free pages to the end and cuts the file. A
 * database made before that setting needs one full VACUUM to switch it on, which needs free space of
 * about the database's size; when that fails the free pages stay inside the file for new rows.
 */
import { type Kysely, sql } from 'kysely';
import type { SpaceReclaim } from '../../audit/types.js';

/** SQLite's numbers for `PRAGMA auto_vacuum`. */
const AUTO_VACUUM_INCREMENTAL = 2;

async function pragmaNumber<DB>(db: Kysely<DB>, name: string): Promise<number> {
  const { rows } = await sql<Record<string, unknown>>`${sql.raw(`PRAGMA ${name}`)}`.execute(db);
  const value = rows[0] === undefined ? undefined : Object.values(rows[0])[0];
  return Number(value ?? 0);
}

async function fileBytes<DB>(db: Kysely<DB>): Promise<number> {
  return (await pragmaNumber(db, 'page_count')) * (await pragmaNumber(db, 'page_size'));
}

/**
 * Copies the write-ahead log into the database and rewinds it, so the next transactions reuse the WAL
 * file's space instead of growing it: on a nearly full disk a long delete then fits in the space the
 * WAL already holds. Best effort: a reader in another process may keep part of it.
 */
export async function settleSqliteWal<DB>(db: Kysely<DB>): Promise<void> {
  await sql`PRAGMA wal_checkpoint(TRUNCATE)`.execute(db);
}

/**
 * Each step of `PRAGMA incremental_vacuum` frees one page, and a statement that returns no rows is
 * stepped once by the driver: so it runs once per free page, in one transaction (one commit, not one
 * fsync per page).
 */
async function vacuumFreePages<DB>(db: Kysely<DB>): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const pages = await pragmaNumber(trx, 'freelist_count');
    for (let i = 0; i < pages; i++) {
      await sql`PRAGMA incremental_vacuum(1)`.execute(trx);
    }
  });
}

export async function reclaimSqliteSpace<DB>(db: Kysely<DB>): Promise<SpaceReclaim> {
  const bytesBefore = await fileBytes(db);
  let switchedOn = false;
  if ((await pragmaNumber(db, 'auto_vacuum')) !== AUTO_VACUUM_INCREMENTAL) {
    try {
      await sql`PRAGMA auto_vacuum = INCREMENTAL`.execute(db);
      await sql`VACUUM`.execute(db);
      switchedOn = true;
    } catch (error) {
      await settleSqliteWal(db).catch(() => {});
      return {
        engine: 'sqlite',
        switchedOn: false,
        bytesBefore,
        bytesAfter: await fileBytes(db),
        failed: `the one-time VACUUM that switches on incremental vacuum failed (${(error as Error).message}); it needs free disk space of about the database's size (${bytesBefore} bytes), the freed pages are reused for new records meanwhile`,
      };
    }
  }
  await vacuumFreePages(db);
  await settleSqliteWal(db);
  return { engine: 'sqlite', switchedOn, bytesBefore, bytesAfter: await fileBytes(db), failed: null };
}
