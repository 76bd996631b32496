/**
 * Schema version 3: the audit log (audit/storage-port.ts). Records are numbered by `seq`, which the writer
 * assigns (it is part of each record's hash) inside the transaction that appends; the primary key then
 * also refuses a second record with the same number, whichever process wrote it.
 */
import { type Kysely, SqliteAdapter, sql } from 'kysely';

export async function createAuditTables(db: Kysely<unknown>): Promise<void> {
  // In SQLite an INTEGER PRIMARY KEY is the rowid: records are stored in seq order, without a second
  // index. PostgreSQL's INTEGER would stop at 2^31 records, which a busy log reaches in months.
  const seqType = db.getExecutor().adapter instanceof SqliteAdapter ? sql`integer` : sql`bigint`;
  await db.schema
    .createTable('audit_events')
    .addColumn('seq', seqType, (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('principal', 'text')
    .addColumn('claimed_name', 'text')
    .addColumn('method', 'text')
    .addColumn('credential_id', 'text')
    .addColumn('client_address', 'text')
    .addColumn('cause', 'text')
    .addColumn('told', 'text')
    .addColumn('target', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .execute();
  // What operators search by (`certmaster explain ID`, `audit --principal/--reason/--target`), and the
  // time range of `audit --since/--until` and of pruning.
  for (const column of ['request_id', 'reason', 'principal', 'target', 'at'] as const) {
    await db.schema.createIndex(`audit_events_${column}`).on('audit_events').column(column).execute();
  }

  // Keyed by seq and signature: Ed25519 signatures are deterministic, so storing one checkpoint twice
  // (a retry) is a no-op, while a periodic and a prune checkpoint of one record both stay.
  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addColumn('pruned_before', 'bigint')
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_checkpoints_pk', ['seq', 'signature'])
    .execute();
}
