/**
 * The `AuditStore` over Kysely, for both dialects. Appends go through the store's `WriteExecutor`, so
 * on SQLite they share the group commit (one fsync) with every other write of the moment, and resolve
 * only after that commit.
 */
import type { Kysely } from 'kysely';
import type { StorableAuditEvent } from '../../audit/storable-event.js';
import type { AuditLink, AuditStore } from '../../audit/storage-port.js';
import type { AuditCheckpoint, AuditFilter, AuditRecord, SpaceReclaim } from '../../audit/types.js';
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from '../certificates/kysely-store.js';
import type { StoreDatabase } from '../certificates/schema.js';
import { toMillis } from '../certificates/schema.js';
import type { CompiledReads } from '../engine/compiled-reads.js';
import { reclaimSqliteSpace, settleSqliteWal } from '../engine/sqlite-space.js';
import type { WriteExecutor } from '../write-registry.js';
import { type AuditQueries, createAuditQueries } from './audit-queries.js';
import {
  type AuditDatabase,
  type AuditTables,
  encodeAuditEvent,
  rowToAuditCheckpoint,
  rowToAuditRecord,
} from './audit-schema.js';

export type AuditDialect = 'sqlite' | 'postgres';

function limitOf(limit: number | undefined, what: string): number {
  if (limit === undefined) {
    return DEFAULT_LIST_LIMIT;
  }
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`${what} must be a positive integer, got ${limit}`);
  }
  return Math.min(limit, MAX_LIST_LIMIT);
}

function checkSeq(value: number, what: string): number {
  if (!Number.isSafeInteger(value)) {
    throw new RangeError(`${what} must be an integer, got ${value}`);
  }
  return value;
}

export class KyselyAuditStore implements AuditStore {
  readonly #db: Kysely<AuditDatabase>;
  readonly #writer: WriteExecutor;
  readonly #q: AuditQueries;
  readonly #dialect: AuditDialect;
  readonly #reads: CompiledReads;

  /** `reads` runs the prepared reads: KyselyCertmasterStore chooses it for the whole store. */
  constructor(db: Kysely<StoreDatabase>, writer: WriteExecutor, dialect: AuditDialect, reads: CompiledReads) {
    this.#db = db.withTables<AuditTables>();
    this.#reads = reads;
    this.#writer = writer;
    this.#q = createAuditQueries(this.#db);
    this.#dialect = dialect;
  }

  /** Hashed where they are written, inside the transaction that reads the chain head. */
  appendAudit(events: readonly StorableAuditEvent[]): Promise<AuditLink[]> {
    if (events.length === 0) {
      return Promise.resolve([]);
    }
    return this.#writer.execute('appendAudit', events.map(encodeAuditEvent));
  }

  /**
   * `since` is inclusive and `until` exclusive, so consecutive ranges neither overlap nor leave gaps.
   * At most 1000 records unless `limit` says otherwise, and never more than 10,000.
   */
  async queryAudit(filter: AuditFilter & { newestFirst?: boolean }): Promise<AuditRecord[]> {
    let query = this.#db.selectFrom('audit_events').selectAll();
    if (filter.since !== undefined) {
      query = query.where('at', '>=', toMillis(filter.since));
    }
    if (filter.until !== undefined) {
      query = query.where('at', '<', toMillis(filter.until));
    }
    if (filter.principal !== undefined) {
      query = query.where('principal', '=', filter.principal);
    }
    if (filter.requestId !== undefined) {
      query = query.where('request_id', '=', filter.requestId);
    }
    if (filter.outcome !== undefined) {
      query = query.where('outcome', '=', filter.outcome);
    }
    if (filter.reason !== undefined) {
      query = query.where('reason', '=', filter.reason);
    }
    if (filter.kind !== undefined) {
      query = query.where('kind', '=', filter.kind);
    }
    if (filter.afterSeq !== undefined) {
      query = query.where('seq', '>', checkSeq(filter.afterSeq, 'afterSeq'));
    }
    if (filter.beforeSeq !== undefined) {
      query = query.where('seq', '<', checkSeq(filter.beforeSeq, 'beforeSeq'));
    }
    if (filter.target !== undefined) {
      query = query.where('target', '=', filter.target);
    }
    const rows = await query
      .orderBy('seq', filter.newestFirst === true ? 'desc' : 'asc')
      .limit(limitOf(filter.limit, 'the audit query limit'))
      .execute();
    return rows.map(rowToAuditRecord);
  }

  async auditHead(): Promise<AuditRecord | null> {
    const { rows } = await this.#reads.read(this.#q.headRecord.bind({}));
    return rows[0] === undefined ? null : rowToAuditRecord(rows[0]);
  }

  async auditRange(from: number, to: number, limit: number): Promise<AuditRecord[]> {
    const query = this.#q.range.bind({
      from: checkSeq(from, 'from'),
      to: checkSeq(to, 'to'),
      limit: limitOf(limit, 'the audit range limit'),
    });
    const { rows } = await this.#reads.read(query);
    return rows.map(rowToAuditRecord);
  }

  addAuditCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    return this.#writer.execute('addAuditCheckpoint', checkpoint);
  }

  /** Oldest first; at most MAX_AUDIT_CHECKPOINTS (pruning removes those of pruned records). */
  async listAuditCheckpoints(): Promise<AuditCheckpoint[]> {
    const { rows } = await this.#reads.read(this.#q.allCheckpoints.bind({}));
    return rows.map(rowToAuditCheckpoint);
  }

  pruneAudit(checkpoint: AuditCheckpoint): Promise<number> {
    return this.#writer.execute('pruneAudit', checkpoint);
  }

  async settleAuditWrites(): Promise<void> {
    if (this.#dialect === 'sqlite') {
      await settleSqliteWal(this.#db);
    }
  }

  /** PostgreSQL's autovacuum returns the space of deleted rows by itself; SQLite is asked to. */
  async reclaimAuditSpace(): Promise<SpaceReclaim> {
    return this.#dialect === 'sqlite' ? reclaimSqliteSpace(this.#db) : { engine: 'postgres' };
  }
}
