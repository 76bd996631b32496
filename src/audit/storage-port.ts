/**
 * The audit log's storage port: what it needs of a store, append-only, hash-chained, prunable only
 * behind a checkpoint. The audit layer owns it; src/store implements it (store/audit/audit-kysely-store.ts)
 * and nothing in src/audit imports src/store. A row the store cannot decode is an
 * `AuditRecordUnreadableError` (audit-errors.ts); what an event may hold is storable-event.ts.
 */
import type { StorableAuditEvent } from './storable-event.js';
import type { AuditCheckpoint, AuditFilter, AuditRecord, SpaceReclaim } from './types.js';

/** Where an appended event went in the chain: its number, its predecessor's hash and its own. */
export interface AuditLink {
  seq: number;
  prevHash: string;
  hash: string;
}

export interface AuditStore {
  /**
   * Appends events in order, durably, in one transaction: reads the chain head inside the
   * transaction (so several processes writing to one database still form one chain), numbers the
   * events after it, and links each with `hashAuditFields` (chain.ts) of its stored texts. Resolves
   * with each event's link after commit; rejects (changing nothing) when the write fails.
   */
  appendAudit(events: readonly StorableAuditEvent[]): Promise<AuditLink[]>;
  /** Oldest first, unless `newestFirst`. */
  queryAudit(filter: AuditFilter & { newestFirst?: boolean }): Promise<AuditRecord[]>;
  /** The last record, or null when the log is empty. */
  auditHead(): Promise<AuditRecord | null>;
  /** Records with from <= seq <= to, oldest first, at most `limit` (verification walks in pages). */
  auditRange(from: number, to: number, limit: number): Promise<AuditRecord[]>;
  addAuditCheckpoint(checkpoint: AuditCheckpoint): Promise<void>;
  listAuditCheckpoints(): Promise<AuditCheckpoint[]>;
  /**
   * Deletes every record with seq <= checkpoint.seq and stores the checkpoint (whose hash is that
   * last removed record's hash, so the next record's prevHash still links to it) in the same
   * transaction. Returns how many records were removed.
   */
  pruneAudit(checkpoint: AuditCheckpoint): Promise<number>;
  /**
   * Lets the next large write reuse the space earlier writes took (SQLite: checkpoints and rewinds the
   * write-ahead log), so a prune between its steps needs almost no new disk space. No-op on PostgreSQL.
   */
  settleAuditWrites(): Promise<void>;
  /** Returns the space of pruned records to the filesystem where the engine does not do it itself. */
  reclaimAuditSpace(): Promise<SpaceReclaim>;
}
