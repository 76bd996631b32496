/**
 * The audit log's fixed queries, compiled once per database. The append path (head, insert) is a
 * primary-key lookup and a single-row insert, prepared once, so appending costs little beyond the
 * commit it shares with other writes.
 */
import { type Kysely, sql } from 'kysely';
import { prepareQuery } from '../engine/prepared-query.js';
import type { AuditCheckpointRow, AuditDatabase, AuditEventRow } from './audit-schema.js';

/** No more checkpoints than this are listed; pruning removes those of pruned records. */
export const MAX_AUDIT_CHECKPOINTS = 100_000;

export function createAuditQueries(db: Kysely<AuditDatabase>) {
  return {
    /** Takes the chain's advisory lock until the transaction ends (PostgreSQL only). */
    lockChain: prepareQuery((p: { namespace: number; key: number }) =>
      db.selectNoFrom(sql<string>`pg_advisory_xact_lock(${p.namespace}::int4, ${p.key}::int4)`.as('locked')),
    ),

    headLink: prepareQuery((_: Record<string, never>) =>
      db.selectFrom('audit_events').select(['seq', 'hash']).orderBy('seq', 'desc').limit(sql.lit(1)),
    ),

    /** Where the chain continues when every record has been pruned. */
    prunedHeadLink: prepareQuery((_: Record<string, never>) =>
      db
        .selectFrom('audit_checkpoints')
        .select(['seq', 'hash'])
        .where('pruned_before', 'is not', null)
        .orderBy('seq', 'desc')
        .limit(sql.lit(1)),
    ),

    headRecord: prepareQuery((_: Record<string, never>) =>
      db.selectFrom('audit_events').selectAll().orderBy('seq', 'desc').limit(sql.lit(1)),
    ),

    hashAt: prepareQuery((p: { seq: number }) =>
      db.selectFrom('audit_events').select('hash').where('seq', '=', p.seq),
    ),

    range: prepareQuery((p: { from: number; to: number; limit: number }) =>
      db
        .selectFrom('audit_events')
        .selectAll()
        .where('seq', '>=', p.from)
        .where('seq', '<=', p.to)
        .orderBy('seq')
        .limit(p.limit),
    ),

    insertEvent: prepareQuery((p: AuditEventRow) =>
      db.insertInto('audit_events').values({
        seq: p.seq,
        at: p.at,
        request_id: p.request_id,
        kind: p.kind,
        phase: p.phase,
        outcome: p.outcome,
        reason: p.reason,
        principal: p.principal,
        claimed_name: p.claimed_name,
        method: p.method,
        credential_id: p.credential_id,
        client_address: p.client_address,
        cause: p.cause,
        told: p.told,
        target: p.target,
        details: p.details,
        prev_hash: p.prev_hash,
        hash: p.hash,
      }),
    ),

    /** Many rows in one statement: one round trip to PostgreSQL instead of one per record. */
    insertEvents: (rows: readonly AuditEventRow[]) => db.insertInto('audit_events').values(rows).compile(),

    /** Storing a checkpoint twice is a no-op (same seq, same deterministic signature). */
    insertCheckpoint: prepareQuery((p: AuditCheckpointRow) =>
      db
        .insertInto('audit_checkpoints')
        .values({
          seq: p.seq,
          hash: p.hash,
          at: p.at,
          signature: p.signature,
          pruned_before: p.pruned_before,
          key_id: p.key_id,
        })
        .onConflict((oc) => oc.columns(['seq', 'signature']).doNothing()),
    ),

    allCheckpoints: prepareQuery((_: Record<string, never>) =>
      db
        .selectFrom('audit_checkpoints')
        .selectAll()
        .orderBy('seq')
        .orderBy('at')
        .limit(sql.lit(MAX_AUDIT_CHECKPOINTS)),
    ),

    deleteEventsThrough: prepareQuery((p: { seq: number }) =>
      db.deleteFrom('audit_events').where('seq', '<=', p.seq),
    ),

    /** Checkpoints of records a prune removes: the prune checkpoint vouches for all of them. */
    deleteCheckpointsBefore: prepareQuery((p: { seq: number }) =>
      db.deleteFrom('audit_checkpoints').where('seq', '<', p.seq),
    ),
  };
}

export type AuditQueries = ReturnType<typeof createAuditQueries>;
