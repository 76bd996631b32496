import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { AuditStore } from '../audit/storage-port.js';
import type { RevocationStore } from '../ca/revocation-port.js';
import { type Clock, systemClock } from '../types.js';
import { parseStoreUrl, type StoreLocation } from '../util/store-url.js';
import type { AcmeStore } from './acme/acme-store.js';
import type { StoreDatabase } from './certificates/schema.js';
import type { Store } from './certificates/store.js';
import { KyselyCertmasterStore } from './certmaster-store.js';
import { sqliteReads } from './engine/compiled-reads.js';
import { PostgresTransactionWriter } from './engine/postgres-writer.js';
import { CachedSqliteDatabase, ImmediateSqliteDialect, openSqliteFile } from './engine/sqlite-database.js';
import { SqliteGroupCommitWriter } from './engine/sqlite-writer.js';
import { ThreadedSqliteWriter } from './engine/threaded-sqlite-writer.js';
import type { AuthStore } from './identities/auth-store.js';
import { migrateToLatest } from './migrations/index.js';
import { createWriteKit } from './write-registry.js';

/**
 * What `openStore` returns: certificates and requests, the identities and credentials of the auth
 * layer, the audit log, the published CRLs, and ACME state.
 */
export type CertmasterStore = Store & AuthStore & AuditStore & RevocationStore & { readonly acme: AcmeStore };

export interface OpenStoreOptions {
  /**
   * Decides which certificates `listCertificates({ status: 'valid' })` considers expired, and the time
   * `removeUser` revokes the removed account's credentials at.
   */
  clock?: Clock;
  /**
   * SQLite only: write from a worker thread with its own connection (the default; what the server
   * wants), or on the caller's thread (a short-lived command, which should not pay the thread's start).
   */
  writerThread?: boolean;
}

/** Connections per process; PostgreSQL's default max_connections (100) then fits several replicas. */
const POSTGRES_POOL_SIZE = 10;

export { parseStoreUrl, type StoreLocation };

export async function openStore(url: string, options: OpenStoreOptions = {}): Promise<CertmasterStore> {
  const clock = options.clock ?? systemClock;
  const location = parseStoreUrl(url);
  return location.kind === 'sqlite'
    ? openSqliteStore(location.path, clock, options.writerThread ?? true)
    : openPostgresStore(location.url, clock);
}

async function openSqliteStore(path: string, clock: Clock, writerThread: boolean): Promise<CertmasterStore> {
  const raw = openSqliteFile(path);
  const database = new CachedSqliteDatabase(raw);
  const kysely = new Kysely<StoreDatabase>({ dialect: new ImmediateSqliteDialect({ database }) });
  try {
    await migrateToLatest(kysely);
  } catch (error) {
    await kysely.destroy();
    if (raw.open) {
      raw.close();
    }
    throw error;
  }
  // With the thread, this connection only reads (and migrated, above): the thread has its own.
  const writer = writerThread
    ? new ThreadedSqliteWriter(path)
    : new SqliteGroupCommitWriter(kysely, database, createWriteKit(kysely, 'sqlite'));
  return new KyselyCertmasterStore(kysely, writer, clock, 'sqlite', sqliteReads(kysely, database));
}

async function openPostgresStore(url: string, clock: Clock): Promise<CertmasterStore> {
  const pool = new pg.Pool({ connectionString: url, max: POSTGRES_POOL_SIZE });
  // An idle client that loses its connection (server restart) emits here; the pool drops it and the
  // next query connects afresh. Without a listener the process would crash.
  pool.on('error', () => {});
  const kysely = new Kysely<StoreDatabase>({ dialect: new PostgresDialect({ pool }) });
  try {
    await migrateToLatest(kysely);
  } catch (error) {
    await kysely.destroy();
    throw error;
  }
  return new KyselyCertmasterStore(
    kysely,
    new PostgresTransactionWriter(kysely, createWriteKit(kysely, 'postgres')),
    clock,
    'postgres',
  );
}
