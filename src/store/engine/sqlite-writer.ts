/**
 * Writes to SQLite with group commit: each batch is one BEGIN IMMEDIATE ... COMMIT (one fsync), each
 * operation inside it a savepoint, so one operation's failure (a serial collision) undoes only its own
 * writes while the others commit.
 */
import type { Kysely } from 'kysely';
import type { StoreDatabase } from '../certificates/schema.js';
import {
  ConcurrentRequestError,
  finalError,
  MAX_ATTEMPTS,
  type WriteContext,
} from '../certificates/write-operations.js';
import {
  type WriteArgs,
  type WriteExecutor,
  type WriteKit,
  type WriteName,
  type WriteResult,
  writeOperation,
} from '../write-registry.js';
import { GroupCommitQueue } from './group-commit.js';
import type { CachedSqliteDatabase } from './sqlite-database.js';

/** Bounds one commit's size and latency; far above what one event-loop turn usually brings. */
export const MAX_BATCH_SIZE = 256;

export class SqliteGroupCommitWriter implements WriteExecutor {
  readonly #kysely: Kysely<StoreDatabase>;
  readonly #database: CachedSqliteDatabase;
  readonly #queue: GroupCommitQueue;
  readonly #context: WriteContext;
  readonly #kit: WriteKit;

  constructor(kysely: Kysely<StoreDatabase>, database: CachedSqliteDatabase, kit: WriteKit) {
    this.#kysely = kysely;
    this.#kit = kit;
    this.#database = database;
    this.#context = {
      // Synchronous underneath: the batch never yields to the event loop while its transaction is open.
      run: async (query) => database.executeSync(query),
      // BEGIN IMMEDIATE already holds the database's single write lock.
      lockCommonName: async () => {},
    };
    this.#queue = new GroupCommitQueue(
      {
        runBatch: (body) => this.#runBatch(body),
        runIsolated: (operation) => this.#runIsolated(operation),
      },
      { maxBatchSize: MAX_BATCH_SIZE },
    );
  }

  execute<N extends WriteName>(name: N, ...args: WriteArgs<N>): Promise<WriteResult<N>> {
    return this.run(name, args) as Promise<WriteResult<N>>;
  }

  /** `execute` for a name and arguments that arrived as data (the writer thread's messages). */
  run(name: string, args: readonly unknown[]): Promise<unknown> {
    let operation: ReturnType<typeof writeOperation>;
    try {
      operation = writeOperation(name);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#queue.submit(() => operation(this.#context, this.#kit, ...args));
  }

  close(): Promise<void> {
    return this.#queue.close();
  }

  #runBatch(body: () => Promise<void>): Promise<void> {
    const db = this.#database;
    // Holding Kysely's connection keeps its reads (same connection) out of our open transaction, so
    // nobody reads what has not been committed yet.
    return this.#kysely.connection().execute(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        await body();
        db.exec('COMMIT');
      } catch (error) {
        if (db.inTransaction) {
          db.exec('ROLLBACK');
        }
        throw error;
      }
    });
  }

  async #runIsolated<T>(operation: () => Promise<T>): Promise<PromiseSettledResult<T>> {
    const db = this.#database;
    for (let attempt = 1; ; attempt++) {
      db.exec('SAVEPOINT operation');
      try {
        const value = await operation();
        db.exec('RELEASE operation');
        return { status: 'fulfilled', value };
      } catch (reason) {
        // Some errors (disk full, I/O) make SQLite roll back the whole transaction: then the batch
        // cannot continue, and must not run the remaining operations in autocommit mode.
        if (!db.inTransaction) {
          throw reason;
        }
        db.exec('ROLLBACK TO operation');
        db.exec('RELEASE operation');
        if (!(reason instanceof ConcurrentRequestError) || attempt >= MAX_ATTEMPTS) {
          return { status: 'rejected', reason: finalError(reason) };
        }
      }
    }
  }
}
