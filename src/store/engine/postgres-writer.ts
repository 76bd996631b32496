/**
 * Writes to PostgreSQL: one transaction per operation on the pool. The server already batches WAL
 * flushes of concurrent commits (commit_delay / group commit in the WAL writer), so batching here would
 * only add latency.
 */
import { createHash } from 'node:crypto';
import { type Kysely, sql } from 'kysely';
import type { StoreDatabase } from '../certificates/schema.js';
import {
  ConcurrentRequestError,
  finalError,
  MAX_ATTEMPTS,
  type WriteContext,
} from '../certificates/write-operations.js';
import {
  type UntypedWrite,
  type WriteArgs,
  type WriteExecutor,
  type WriteKit,
  type WriteName,
  type WriteResult,
  writeOperation,
} from '../write-registry.js';
import { StoreClosedError } from './group-commit.js';
import { type PreparedQuery, prepareQuery } from './prepared-query.js';

/** First key of our advisory locks ("cm"), so they cannot collide with locks other software takes. */
const ADVISORY_LOCK_NAMESPACE = 0x636d;

/** A stable 32-bit key for a name; a collision only serializes two unrelated names, never breaks one. */
function lockKeyOf(commonName: string): number {
  return createHash('sha256').update(commonName, 'utf8').digest().readInt32BE(0);
}

export class PostgresTransactionWriter implements WriteExecutor {
  readonly #kysely: Kysely<StoreDatabase>;
  readonly #lockCommonName: PreparedQuery<{ namespace: number; key: number }, { locked: string }>;
  #inFlight = 0;
  #closed = false;
  #idleWaiters: Array<() => void> = [];
  readonly #kit: WriteKit;

  constructor(kysely: Kysely<StoreDatabase>, kit: WriteKit) {
    this.#kysely = kysely;
    this.#kit = kit;
    // Held until the transaction ends; makes "no pending request and no valid certificate for this
    // name, so insert" atomic across replicas, which the unique indexes alone cannot (an autosigned
    // request is never pending).
    this.#lockCommonName = prepareQuery((p: { namespace: number; key: number }) =>
      kysely.selectNoFrom(
        sql<string>`pg_advisory_xact_lock(${p.namespace}::int4, ${p.key}::int4)`.as('locked'),
      ),
    );
  }

  async execute<N extends WriteName>(name: N, ...args: WriteArgs<N>): Promise<WriteResult<N>> {
    if (this.#closed) {
      throw new StoreClosedError();
    }
    const operation = writeOperation(name);
    this.#inFlight++;
    try {
      return (await this.#executeWithRetry(operation, args)) as WriteResult<N>;
    } finally {
      this.#inFlight--;
      if (this.#inFlight === 0) {
        for (const wake of this.#idleWaiters.splice(0)) {
          wake();
        }
      }
    }
  }

  close(): Promise<void> {
    this.#closed = true;
    if (this.#inFlight === 0) {
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async #executeWithRetry(operation: UntypedWrite, args: readonly unknown[]): Promise<unknown> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#kysely.transaction().execute((trx) => {
          const context: WriteContext = {
            run: (query) => trx.executeQuery(query),
            lockCommonName: async (commonName) => {
              await trx.executeQuery(
                this.#lockCommonName.bind({ namespace: ADVISORY_LOCK_NAMESPACE, key: lockKeyOf(commonName) }),
              );
            },
          };
          return operation(context, this.#kit, ...args);
        });
      } catch (error) {
        if (!(error instanceof ConcurrentRequestError) || attempt >= MAX_ATTEMPTS) {
          throw finalError(error);
        }
      }
    }
  }
}
