/**
 * What crosses between the main thread and the SQLite writer thread: the messages, and the two things
 * a structured clone does not carry as they are, errors (their class, `code` and other fields) and
 * Buffers (which arrive as plain Uint8Arrays).
 */
import Database from 'better-sqlite3';
import { AuditRecordUnreadableError } from '../../audit/audit-errors.js';
import { AcmeKeyTakenError } from '../acme/acme-store.js';
import {
  SerialCollisionError,
  SubmissionRecordError,
  SupersedeConflictError,
} from '../certificates/store.js';
import { DuplicateError } from '../identities/auth-store.js';
import { StoreClosedError } from './group-commit.js';

export interface WriteRequest {
  id: number;
  name: string;
  args: unknown[];
}

export type WriteAnswer =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: ErrorData };

/** Writes submitted in one turn of the main thread's event loop travel in one message. */
export type ToWriter = { kind: 'writes'; writes: WriteRequest[] } | { kind: 'close' };

/** The answers of one commit (or more) travel in one message; `closed` comes after the last. */
export type FromWriter = { kind: 'answers'; answers: WriteAnswer[] } | { kind: 'closed' };

/** An error as data: enough to rebuild it as the same class, with the same name, message and fields. */
export interface ErrorData {
  name: string;
  message: string;
  stack: string | undefined;
  fields: Record<string, Field>;
  cause?: ErrorData;
}

type Field = string | number | boolean | bigint | null | undefined | Date;

/**
 * The classes callers tell apart (`instanceof`): rebuilt as themselves. Anything else comes back as an
 * Error with the original name, message and fields (`code` above all: SQLITE_FULL, SQLITE_IOERR,
 * SQLITE_CONSTRAINT_UNIQUE ...), which is what callers read of it.
 */
const KNOWN_CLASSES: ReadonlyMap<string, { prototype: Error }> = new Map<string, { prototype: Error }>([
  ['SerialCollisionError', SerialCollisionError],
  ['SupersedeConflictError', SupersedeConflictError],
  ['SubmissionRecordError', SubmissionRecordError],
  ['DuplicateError', DuplicateError],
  ['AcmeKeyTakenError', AcmeKeyTakenError],
  ['AuditRecordUnreadableError', AuditRecordUnreadableError],
  ['StoreClosedError', StoreClosedError],
  ['SqliteError', Database.SqliteError],
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
]);

const MAX_CAUSE_DEPTH = 4;

function isField(value: unknown): value is Field {
  return (
    value === null ||
    value === undefined ||
    value instanceof Date ||
    ['string', 'number', 'boolean', 'bigint'].includes(typeof value)
  );
}

export function encodeError(thrown: unknown, depth = 0): ErrorData {
  if (!(thrown instanceof Error)) {
    return { name: 'Error', message: String(thrown), stack: undefined, fields: {} };
  }
  const fields: Record<string, Field> = {};
  for (const [key, value] of Object.entries(thrown)) {
    if (key !== 'name' && key !== 'message' && key !== 'stack' && key !== 'cause' && isField(value)) {
      fields[key] = value;
    }
  }
  const data: ErrorData = { name: thrown.name, message: thrown.message, stack: thrown.stack, fields };
  if (thrown.cause !== undefined && depth < MAX_CAUSE_DEPTH) {
    data.cause = encodeError(thrown.cause, depth + 1);
  }
  return data;
}

/** The error again, of its class where KNOWN_CLASSES has it (built without running its constructor). */
export function decodeError(data: ErrorData): Error {
  const prototype = KNOWN_CLASSES.get(data.name)?.prototype ?? Error.prototype;
  const error = Object.create(prototype) as Error;
  const hidden = { writable: true, configurable: true, enumerable: false };
  Object.defineProperty(error, 'message', { ...hidden, value: data.message });
  if (error.name !== data.name) {
    Object.defineProperty(error, 'name', { ...hidden, value: data.name });
  }
  Object.defineProperty(error, 'stack', {
    ...hidden,
    value: `${data.stack ?? `${data.name}: ${data.message}`}\n    (in the store's writer thread)`,
  });
  if (data.cause !== undefined) {
    Object.defineProperty(error, 'cause', { ...hidden, value: decodeError(data.cause) });
  }
  Object.assign(error, data.fields);
  return error;
}

/** Deeper than any stored record nests; stops a cyclic value early. */
const MAX_REVIVE_DEPTH = 32;

/**
 * Turns the Uint8Arrays a structured clone makes of Buffers (certificate DER, keys, CRLs) back into
 * Buffers, in place, in arrays and plain objects. The store passes no other byte arrays.
 */
export function reviveBuffers<T>(value: T, depth = 0): T {
  if (value instanceof Uint8Array) {
    return (
      Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
    ) as T;
  }
  if (value === null || typeof value !== 'object' || depth > MAX_REVIVE_DEPTH) {
    return value;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      value[i] = reviveBuffers(value[i], depth + 1);
    }
    return value;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype === Object.prototype || prototype === null) {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      const item = record[key];
      if (item !== null && typeof item === 'object') {
        record[key] = reviveBuffers(item, depth + 1);
      }
    }
  }
  return value;
}
