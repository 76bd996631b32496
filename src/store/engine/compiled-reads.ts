/**
 * Runs the store's prepared reads (prepared-query.ts). Through Kysely, every read waits its turn for the
 * connection and crosses a few promises: 1.5 to 2 µs more per read than running it directly
 * (bench/compiled-reads.ts), paid on every Bearer request (the token denylist) and every grant. On SQLite a read can run
 * synchronously instead whenever no transaction is open on the connection, which is what Kysely's lock
 * would have waited for anyway; inside one (a group commit between BEGIN and COMMIT yields to other
 * callers' microtasks at every await) it still queues behind Kysely's lock, so nobody reads what has
 * not been committed.
 */
import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { CachedSqliteDatabase } from './sqlite-database.js';

export interface CompiledReads {
  read<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
}

/** Every read through Kysely: PostgreSQL, where each one is a round trip on the pool anyway. */
export function kyselyReads<DB>(db: Kysely<DB>): CompiledReads {
  return { read: (query) => db.executeQuery(query) };
}

/** `db` must be the Kysely instance over `database`, the one connection both share. */
export function sqliteReads<DB>(db: Kysely<DB>, database: CachedSqliteDatabase): CompiledReads {
  return {
    read<R>(query: CompiledQuery<R>): Promise<QueryResult<R>> {
      if (database.inTransaction) return db.executeQuery(query);
      try {
        return Promise.resolve(database.executeSync(query));
      } catch (error) {
        return Promise.reject(error);
      }
    },
  };
}
