/**
 * The audit tables as Kysely sees them (created by audit-migration.ts), and the conversions between
 * their rows and the records of audit/types.ts. Instants are integer milliseconds, `told` and `details`
 * JSON text, as elsewhere in the store. What is written is checked (kinds, sizes), and what is read back
 * is checked again: a row this build does not understand is an error naming its seq, never a guess.
 */
import type { ColumnType, Selectable } from 'kysely';
import { canonicalJson } from '../../audit/chain.js';
import {
  AUDIT_KINDS,
  type AuditCheckpoint,
  type AuditEvent,
  type AuditKind,
  type AuditOutcome,
  type AuditPhase,
  type AuditRecord,
} from '../../audit/types.js';
import { fromMillis, type Millis, type StoreDatabase, toMillis } from '../certificates/schema.js';
import { AuditRecordUnreadableError } from './audit-errors.js';

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

/** Request ids, names, reasons and causes are short; a longer one is a bug, not an event. */
export const MAX_AUDIT_TEXT_LENGTH = 4096;
/** Details are "small extra facts" (types.ts): names asked for, a serial, a route. */
export const MAX_AUDIT_DETAILS_LENGTH = 64 * 1024;

const KINDS: ReadonlySet<string> = new Set<string>(AUDIT_KINDS);
const PHASES: ReadonlySet<string> = new Set<AuditPhase>(['request', 'response', 'decision']);
const OUTCOMES: ReadonlySet<string> = new Set<AuditOutcome>(['success', 'failure']);
const HASH_HEX = /^[0-9a-f]{64}$/;

/**
 * NUL cannot be stored in PostgreSQL text, and a lone surrogate does not survive UTF-8: either would make
 * the stored record differ from the hashed one. A client can put both in a user name it claims, so they
 * are replaced (U+FFFD) rather than refused.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this finds
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function storableText(field: string, value: string | null, required: boolean): string | null {
  if (value === null) {
    if (required) {
      throw new TypeError(`an audit event needs a ${field}`);
    }
    return null;
  }
  if (typeof value !== 'string' || (required && value.length === 0)) {
    throw new TypeError(`an audit event's ${field} must be a${required ? ' non-empty' : ''} string or null`);
  }
  if (value.length > MAX_AUDIT_TEXT_LENGTH) {
    throw new RangeError(`an audit event's ${field} is longer than ${MAX_AUDIT_TEXT_LENGTH} characters`);
  }
  return value.replace(UNSTORABLE, '\uFFFD');
}

function storableTold(told: AuditEvent['told']): AuditEvent['told'] {
  if (told === null) {
    return null;
  }
  if (
    typeof told !== 'object' ||
    !Number.isSafeInteger(told.status) ||
    typeof told.detail !== 'string' ||
    typeof told.hint !== 'string'
  ) {
    throw new TypeError("an audit event's told is { status, detail, hint } or null");
  }
  if (told.detail.length + told.hint.length > MAX_AUDIT_TEXT_LENGTH) {
    throw new RangeError(`an audit event's told is longer than ${MAX_AUDIT_TEXT_LENGTH} characters`);
  }
  return { status: told.status, detail: told.detail, hint: told.hint };
}

function storableDetails(details: Record<string, unknown>): string {
  if (details === null || typeof details !== 'object' || Array.isArray(details)) {
    throw new TypeError("an audit event's details must be an object");
  }
  const text = canonicalJson(details);
  if (text.length > MAX_AUDIT_DETAILS_LENGTH) {
    throw new RangeError(`an audit event's details are longer than ${MAX_AUDIT_DETAILS_LENGTH} characters`);
  }
  return text;
}

export type AuditEventInsertRow = Omit<AuditEventRow, 'seq' | 'prev_hash' | 'hash'>;

/** An event ready to append: its row (without seq and hashes) and the event as that row reads back. */
export interface EncodedAuditEvent {
  row: AuditEventInsertRow;
  stored: AuditEvent;
}

/**
 * The row for an event (without seq and hashes), and the event as that row reads back: the one to hash.
 * Details are stored as canonical JSON, whose parse encodes back to the same text, so the hash of the
 * event given here is the hash of the record read later. Throws (TypeError, RangeError) for an event
 * the log cannot store, so callers can check an event before queueing it with others.
 */
export function encodeAuditEvent(event: AuditEvent): EncodedAuditEvent {
  if (!KINDS.has(event.kind)) {
    throw new TypeError(`unknown audit kind ${String(event.kind)}`);
  }
  if (!PHASES.has(event.phase)) {
    throw new TypeError(`unknown audit phase ${String(event.phase)}`);
  }
  if (!OUTCOMES.has(event.outcome)) {
    throw new TypeError(`unknown audit outcome ${String(event.outcome)}`);
  }
  if (!(event.at instanceof Date)) {
    throw new TypeError("an audit event's at must be a Date");
  }
  const stored: AuditEvent = {
    at: event.at,
    requestId: storableText('request id', event.requestId, true) as string,
    kind: event.kind,
    phase: event.phase,
    outcome: event.outcome,
    reason: storableText('reason', event.reason, false),
    principal: storableText('principal', event.principal, false),
    claimedName: storableText('claimed name', event.claimedName, false),
    method: storableText('method', event.method, false),
    credentialId: storableText('credential id', event.credentialId, false),
    clientAddress: storableText('client address', event.clientAddress, false),
    cause: storableText('cause', event.cause, false),
    told: storableTold(event.told),
    target: storableText('target', event.target, false),
    details: event.details,
  };
  const row: AuditEventInsertRow = {
    at: toMillis(event.at),
    request_id: stored.requestId,
    kind: stored.kind,
    phase: stored.phase,
    outcome: stored.outcome,
    reason: stored.reason,
    principal: stored.principal,
    claimed_name: stored.claimedName,
    method: stored.method,
    credential_id: stored.credentialId,
    client_address: stored.clientAddress,
    cause: stored.cause,
    told: stored.told === null ? null : canonicalJson(stored.told),
    target: stored.target,
    details: storableDetails(event.details),
  };
  return { row, stored };
}

/** Throws when `event` cannot be stored; see encodeAuditEvent. */
export function assertStorableAuditEvent(event: AuditEvent): void {
  encodeAuditEvent(event);
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
    if (!KINDS.has(row.kind)) {
      throw new AuditRecordUnreadableError(seq, `its kind ${row.kind} is unknown`);
    }
    if (!PHASES.has(row.phase)) {
      throw new AuditRecordUnreadableError(seq, `its phase ${row.phase} is unknown`);
    }
    if (!OUTCOMES.has(row.outcome)) {
      throw new AuditRecordUnreadableError(seq, `its outcome ${row.outcome} is unknown`);
    }
    return {
      at: fromMillis(row.at),
      requestId: row.request_id,
      kind: row.kind as AuditKind,
      phase: row.phase as AuditPhase,
      outcome: row.outcome as AuditOutcome,
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
