/**
 * The audit tables as Kysely sees them (created by audit-migration.ts), and the conversions between
 * their rows and the records of audit/types.ts. Instants are integer milliseconds, `told` and `details`
 * JSON text, as elsewhere in the store. What is written is checked (kinds, sizes: the audit layer's rule,
 * audit/storable-event.ts), and what is read back is checked again: a row this build does not understand
 * is an error naming its seq, never a guess.
 */
import type { ColumnType, Selectable } from 'kysely';
import { AuditRecordUnreadableError } from '../../audit/audit-errors.js';
import type { AuditHashFields } from '../../audit/chain.js';
import {
  isAuditKind,
  isAuditOutcome,
  isAuditPhase,
  type StorableAuditEvent,
} from '../../audit/storable-event.js';
import type { AuditCheckpoint, AuditEvent, AuditRecord } from '../../audit/types.js';
import { fromMillis, type Millis, type StoreDatabase, toMillis } from '../certificates/schema.js';

/** An integer read as number (SQLite) or string (pg BIGINT), written as number. */
type BigIntColumn = ColumnType<number | string, number, number>;
type OptionalBigIntColumn = ColumnType<number | string | null, number | null, number | null>;

export interface AuditEventsTable {
  seq: BigIntColumn;
  at: Millis;
  request_id: string;
  kind: string;
  phase: string;
  outcome: string;
  reason: string | null;
  principal: string | null;
  claimed_name: string | null;
  method: string | null;
  credential_id: string | null;
  client_address: string | null;
  cause: string | null;
  /** JSON object { status, detail, hint }, or null. */
  told: string | null;
  target: string | null;
  /** JSON object. */
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditCheckpointsTable {
  seq: BigIntColumn;
  hash: string;
  at: Millis;
  signature: string;
  pruned_before: OptionalBigIntColumn;
  key_id: string;
}

/** A type alias, not an interface: Kysely's `withTables` wants an index signature. */
export type AuditTables = {
  audit_events: AuditEventsTable;
  audit_checkpoints: AuditCheckpointsTable;
};

/** The store's tables with the audit tables added (schema.ts predates them). */
export type AuditDatabase = StoreDatabase & AuditTables;

/** Rows as written, and as read once the integers are normalised (pg returns BIGINT as a string). */
export type AuditEventRow = Omit<AuditEventsTable, 'seq' | 'at'> & { seq: number; at: number };

export type AuditCheckpointRow = Omit<AuditCheckpointsTable, 'seq' | 'at' | 'pruned_before'> & {
  seq: number;
  at: number;
  pruned_before: number | null;
};

const HASH_HEX = /^[0-9a-f]{64}$/;

export type AuditEventInsertRow = Omit<AuditEventRow, 'seq' | 'prev_hash' | 'hash'>;

/**
 * An event ready to append: its row (without seq and hashes) and its instant as the chain hashes it.
 * Plain data, so it can travel to the writer thread as it is.
 */
export interface EncodedAuditEvent {
  row: AuditEventInsertRow;
  atIso: string;
}

/**
 * The row for an event the audit layer has checked and encoded (audit/storable-event.ts): what may be
 * stored, and how, is its rule; this maps it to columns.
 */
export function encodeAuditEvent({
  event,
  atIso,
  toldJson,
  detailsJson,
}: StorableAuditEvent): EncodedAuditEvent {
  const row: AuditEventInsertRow = {
    at: toMillis(event.at),
    request_id: event.requestId,
    kind: event.kind,
    phase: event.phase,
    outcome: event.outcome,
    reason: event.reason,
    principal: event.principal,
    claimed_name: event.claimedName,
    method: event.method,
    credential_id: event.credentialId,
    client_address: event.clientAddress,
    cause: event.cause,
    told: toldJson,
    target: event.target,
    details: detailsJson,
  };
  return { row, atIso };
}

/** The row as written: an object literal rather than a spread, which costs µs per record here. */
export function auditEventRow(
  row: AuditEventInsertRow,
  seq: number,
  prevHash: string,
  hash: string,
): AuditEventRow {
  return {
    seq,
    at: row.at,
    request_id: row.request_id,
    kind: row.kind,
    phase: row.phase,
    outcome: row.outcome,
    reason: row.reason,
    principal: row.principal,
    claimed_name: row.claimed_name,
    method: row.method,
    credential_id: row.credential_id,
    client_address: row.client_address,
    cause: row.cause,
    told: row.told,
    target: row.target,
    details: row.details,
    prev_hash: prevHash,
    hash,
  };
}

/** What the chain hashes of a row about to be written: its stored texts as they are. */
export function hashFieldsOfRow(row: AuditEventInsertRow, atIso: string): AuditHashFields {
  return {
    atIso,
    requestId: row.request_id,
    kind: row.kind,
    phase: row.phase,
    outcome: row.outcome,
    reason: row.reason,
    principal: row.principal,
    claimedName: row.claimed_name,
    method: row.method,
    credentialId: row.credential_id,
    clientAddress: row.client_address,
    cause: row.cause,
    toldJson: row.told ?? 'null',
    target: row.target,
    detailsJson: row.details,
  };
}

export function toSeq(value: number | string): number {
  const seq = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(seq)) {
    throw new RangeError(`stored audit seq ${String(value)} is not an integer`);
  }
  return seq;
}

function parseJsonObject(text: string): Record<string, unknown> | null {
  const parsed: unknown = JSON.parse(text);
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : null;
}

function decodeTold(seq: number, text: string | null): AuditEvent['told'] {
  if (text === null) {
    return null;
  }
  const told = parseJsonObject(text);
  if (
    told === null ||
    typeof told.status !== 'number' ||
    typeof told.detail !== 'string' ||
    typeof told.hint !== 'string'
  ) {
    throw new AuditRecordUnreadableError(seq, 'its told is not { status, detail, hint }');
  }
  return { status: told.status, detail: told.detail, hint: told.hint };
}

function decodeDetails(seq: number, text: string): Record<string, unknown> {
  const details = parseJsonObject(text);
  if (details === null) {
    throw new AuditRecordUnreadableError(seq, 'its details are not a JSON object');
  }
  return details;
}

/** The event a row stores, as it reads back (what the chain's hash covers). */
export function rowToAuditEvent(
  seq: number,
  row: Omit<Selectable<AuditEventsTable>, 'seq' | 'prev_hash' | 'hash'>,
): AuditEvent {
  try {
    const { kind, phase, outcome } = row;
    if (!isAuditKind(kind)) {
      throw new AuditRecordUnreadableError(seq, `its kind ${kind} is unknown`);
    }
    if (!isAuditPhase(phase)) {
      throw new AuditRecordUnreadableError(seq, `its phase ${phase} is unknown`);
    }
    if (!isAuditOutcome(outcome)) {
      throw new AuditRecordUnreadableError(seq, `its outcome ${outcome} is unknown`);
    }
    return {
      at: fromMillis(row.at),
      requestId: row.request_id,
      kind,
      phase,
      outcome,
      reason: row.reason,
      principal: row.principal,
      claimedName: row.claimed_name,
      method: row.method,
      credentialId: row.credential_id,
      clientAddress: row.client_address,
      cause: row.cause,
      told: decodeTold(seq, row.told),
      target: row.target,
      details: decodeDetails(seq, row.details),
    };
  } catch (error) {
    if (error instanceof AuditRecordUnreadableError) {
      throw error;
    }
    throw new AuditRecordUnreadableError(seq, error instanceof Error ? error.message : String(error));
  }
}

export function rowToAuditRecord(row: Selectable<AuditEventsTable>): AuditRecord {
  const seq = toSeq(row.seq);
  const event = rowToAuditEvent(seq, row);
  if (!HASH_HEX.test(row.prev_hash) || !HASH_HEX.test(row.hash)) {
    throw new AuditRecordUnreadableError(seq, 'its hashes are not 64 lower-case hex digits');
  }
  return { ...event, seq, prevHash: row.prev_hash, hash: row.hash };
}

export function auditCheckpointToRow(checkpoint: AuditCheckpoint): AuditCheckpointRow {
  if (!Number.isSafeInteger(checkpoint.seq) || !HASH_HEX.test(checkpoint.hash)) {
    throw new TypeError('a checkpoint names a record by integer seq and 64-hex-digit hash');
  }
  if (checkpoint.prunedBefore !== null && !Number.isSafeInteger(checkpoint.prunedBefore)) {
    throw new TypeError("a checkpoint's prunedBefore is an integer or null");
  }
  return {
    seq: checkpoint.seq,
    hash: checkpoint.hash,
    at: toMillis(checkpoint.at),
    signature: checkpoint.signature,
    pruned_before: checkpoint.prunedBefore,
    key_id: checkpoint.keyId,
  };
}

/** A tampered instant reads as an invalid Date, whose signature then fails to verify. */
export function rowToAuditCheckpoint(row: Selectable<AuditCheckpointsTable>): AuditCheckpoint {
  const ms = Number(row.at);
  return {
    seq: toSeq(row.seq),
    hash: row.hash,
    at: new Date(Number.isSafeInteger(ms) ? ms : Number.NaN),
    signature: row.signature,
    prunedBefore: row.pruned_before === null ? null : toSeq(row.pruned_before),
    keyId: row.key_id,
  };
}
