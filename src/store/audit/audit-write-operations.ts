/**
 * The audit log's writes, for both dialects. Each runs inside the transaction (or group-commit
 * savepoint) a `WriteExecutor` gives it, so an append joins the same SQLite commit as the writes around
 * it. The chain head is read inside that transaction, after taking the chain's lock (SQLite's BEGIN
 * IMMEDIATE; a PostgreSQL advisory lock), so every process writing to one database extends one chain.
 */
import type { CompiledQuery, QueryResult } from 'kysely';
import { GENESIS_HASH, hashAuditFields } from '../../audit/chain.js';
import type { AuditLink } from '../../audit/storage-port.js';
import type { AuditCheckpoint } from '../../audit/types.js';
import type { WriteContext } from '../certificates/write-operations.js';
import type { AuditQueries } from './audit-queries.js';
import {
  type AuditEventRow,
  auditCheckpointToRow,
  auditEventRow,
  type EncodedAuditEvent,
  hashFieldsOfRow,
  toSeq,
} from './audit-schema.js';

/** How the chain is serialised across processes within a write transaction. */
export type ChainLock = (ctx: WriteContext) => Promise<void>;

/** What the audit writes need of their dialect: the queries, the chain's lock, the insert style. */
export interface AuditWriteKit {
  q: AuditQueries;
  lockChain: ChainLock;
  /** PostgreSQL: one INSERT of many rows; SQLite: a prepared single-row insert per record. */
  multiRowInsert: boolean;
}

/** Rows per INSERT when inserting many at once: 18 parameters each, well under PostgreSQL's 65535. */
const ROWS_PER_INSERT = 1000;

/** More than a few seconds of a busy server's decisions in one transaction would hold the lock too long. */
export const MAX_AUDIT_APPEND = 10_000;

async function firstRow<R>(ctx: WriteContext, query: CompiledQuery<R>): Promise<R | undefined> {
  const result: QueryResult<R> = await ctx.run(query);
  return result.rows[0];
}

/** The last link of the chain: the newest record, else the newest prune checkpoint, else genesis. */
async function chainHead(ctx: WriteContext, q: AuditQueries): Promise<{ seq: number; hash: string }> {
  const head = (await firstRow(ctx, q.headLink.bind({}))) ?? (await firstRow(ctx, q.prunedHeadLink.bind({})));
  return head === undefined ? { seq: 0, hash: GENESIS_HASH } : { seq: toSeq(head.seq), hash: head.hash };
}

/**
 * Appends events the audit layer has checked and the store encoded (encodeAuditEvent), numbering them
 * after the chain head and linking each with the chain's hash of its stored texts.
 */
export async function appendAudit(
  ctx: WriteContext,
  { q, lockChain, multiRowInsert }: AuditWriteKit,
  encoded: readonly EncodedAuditEvent[],
): Promise<AuditLink[]> {
  if (encoded.length > MAX_AUDIT_APPEND) {
    throw new RangeError(`at most ${MAX_AUDIT_APPEND} audit events are appended at once`);
  }
  await lockChain(ctx);
  let { seq, hash: prevHash } = await chainHead(ctx, q);
  const rows: AuditEventRow[] = [];
  const links: AuditLink[] = [];
  for (const { row, atIso } of encoded) {
    seq++;
    // Hash the texts the row stores, so the stored record verifies exactly.
    const hash = hashAuditFields(prevHash, seq, hashFieldsOfRow(row, atIso));
    rows.push(auditEventRow(row, seq, prevHash, hash));
    links.push({ seq, prevHash, hash });
    prevHash = hash;
  }
  if (multiRowInsert) {
    for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
      await ctx.run(q.insertEvents(rows.slice(start, start + ROWS_PER_INSERT)));
    }
  } else {
    for (const row of rows) {
      await ctx.run(q.insertEvent.bind(row));
    }
  }
  return links;
}

async function assertNamesRecord(
  ctx: WriteContext,
  q: AuditQueries,
  checkpoint: AuditCheckpoint,
): Promise<void> {
  const record = await firstRow(ctx, q.hashAt.bind({ seq: checkpoint.seq }));
  if (record === undefined) {
    throw new Error(`the audit checkpoint names record ${checkpoint.seq}, which is not in the log`);
  }
  if (record.hash !== checkpoint.hash) {
    throw new Error(`the audit checkpoint's hash is not that of record ${checkpoint.seq}`);
  }
}

export async function addAuditCheckpoint(
  ctx: WriteContext,
  { q }: AuditWriteKit,
  checkpoint: AuditCheckpoint,
): Promise<void> {
  const row = auditCheckpointToRow(checkpoint);
  await assertNamesRecord(ctx, q, checkpoint);
  await ctx.run(q.insertCheckpoint.bind(row));
}

/**
 * Removes the records up to the checkpoint's seq and the checkpoints of those records, and stores the
 * checkpoint that replaces them, all in one transaction. Only behind a checkpoint of a record still
 * present, with exactly that record's hash: the chain's start must stay verifiable.
 */
export async function pruneAudit(
  ctx: WriteContext,
  { q, lockChain }: AuditWriteKit,
  checkpoint: AuditCheckpoint,
): Promise<number> {
  const row = auditCheckpointToRow(checkpoint);
  if (checkpoint.prunedBefore !== checkpoint.seq + 1) {
    throw new RangeError('a prune checkpoint of record N says that records before N + 1 were pruned');
  }
  await lockChain(ctx);
  await assertNamesRecord(ctx, q, checkpoint);
  await ctx.run(q.insertCheckpoint.bind(row));
  await ctx.run(q.deleteCheckpointsBefore.bind({ seq: checkpoint.seq }));
  const deleted = await ctx.run(q.deleteEventsThrough.bind({ seq: checkpoint.seq }));
  return Number(deleted.numAffectedRows ?? 0n);
}
