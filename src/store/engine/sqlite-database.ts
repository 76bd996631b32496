/**
 * The embedded SQLite database: file creation, connection settings, a statement cache, and a Kysely
 * dialect whose transactions take the write lock up front.
 */
import { closeSync, constants, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryResult,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
  type SqliteDialectConfig,
  SqliteDriver,
  type SqliteStatement,
} from 'kysely';

/** How long a writer waits for another process (the CLI next to the server) to release the lock. */
const BUSY_TIMEOUT_MS = 5000;

/** Distinct SQL texts kept prepared; the store uses a few dozen, so this only stops runaway growth. */
const STATEMENT_CACHE_LIMIT = 256;

/**
 * Opens (creating it 0600 if absent: it holds every issued certificate and request) the database file
 * with the settings the store relies on.
 */
export function openSqliteFile(path: string): Database.Database {
  closeSync(openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600));
  const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // Takes effect only on a new file, and only before WAL mode is set: lets `audit prune` give the
    // space of removed records back (sqlite-space.ts). An older database is switched on its first prune.
    db.pragma('auto_vacuum = INCREMENTAL');
    // WAL lets readers (the CLI, the server's reads) proceed while a writer commits.
    const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
    if (mode !== 'wal') {
      throw new Error(
        `SQLite refused WAL mode for ${path} (got ${String(mode)}); is it on a network filesystem?`,
      );
    }
    // FULL: in WAL mode, NORMAL may lose the last commits on power loss; an answered request must not.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    // Every operation of a group commit runs in a savepoint, whose undo copies of the pages it changes
    // (the statement journal) would otherwise go to a temporary file: a write syscall per page.
    db.pragma('temp_store = MEMORY');
    // Random keys (digests, serials) touch index pages all over the file: keep them in memory rather
    // than re-reading them for every insert. 16 MiB, allocated as used: request ids and audit rows
    // now arrive in time order, and at 64 MiB the page cache of a busy audited server was the largest
    // part of its resident memory (bench/memory.ts: 314 MB peak, 280 MB at 16 MiB, same CPU per answer).
    db.pragma('cache_size = -16384');
    // Checkpoint every ~40 MiB of WAL instead of ~4 MiB: a page rewritten by many commits is copied
    // into the database once, and fewer commits pay for a checkpoint. The WAL file is cut back after.
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/**
 * better-sqlite3 behind Kysely's `SqliteDatabase` interface, preparing each distinct SQL text once.
 * Also executes compiled queries synchronously for the group-commit writer, which must not yield to the
 * event loop between BEGIN and COMMIT.
 */
export class CachedSqliteDatabase implements SqliteDatabase {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  prepare(sql: string): SqliteStatement & Database.Statement {
    const cached = this.#statements.get(sql);
    if (cached !== undefined) {
      return cached;
    }
    const statement = this.#db.prepare(sql);
    if (this.#statements.size < STATEMENT_CACHE_LIMIT) {
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  /** Runs a statement that returns nothing (BEGIN, COMMIT, SAVEPOINT ...). */
  exec(sql: string): void {
    this.prepare(sql).run();
  }

  executeSync<R>(query: CompiledQuery<R>): QueryResult<R> {
    const statement = this.prepare(query.sql);
    if (statement.reader) {
      return { rows: statement.all(query.parameters) as R[] };
    }
    const { changes } = statement.run(query.parameters);
    return { rows: [], numAffectedRows: BigInt(changes) };
  }

  close(): void {
    this.#statements.clear();
    this.#db.close();
  }
}

/** Kysely's driver, except that transactions begin IMMEDIATE: check-then-write must not race another process. */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** SQLite runs DDL inside transactions, so migrations can be atomic (Kysely's default adapter says no). */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

export class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}
