/**
 * What an audit event may hold, whatever store keeps it: a known kind, phase and outcome, short texts
 * and small details that have a JSON form. An event that breaks these is its caller's bug: the log
 * refuses it (TypeError, RangeError) before queueing it, so it fails alone, and the store encodes only
 * the event `storableAuditEvent` returns (store/audit/audit-schema.ts), so the hash covers what is kept.
 */
import { canonicalJson } from './canonical-json.js';
import { AUDIT_KINDS, type AuditEvent, type AuditKind, type AuditOutcome, type AuditPhase } from './types.js';

/** Request ids, names, reasons and causes are short; a longer one is a bug, not an event. */
export const MAX_AUDIT_TEXT_LENGTH = 4096;
/** Details are "small extra facts" (types.ts): names asked for, a serial, a route. */
export const MAX_AUDIT_DETAILS_LENGTH = 64 * 1024;

const KINDS: ReadonlySet<string> = new Set<string>(AUDIT_KINDS);
const PHASES: ReadonlySet<string> = new Set<AuditPhase>(['request', 'response', 'decision']);
const OUTCOMES: ReadonlySet<string> = new Set<AuditOutcome>(['success', 'failure']);

export function isAuditKind(text: string): text is AuditKind {
  return KINDS.has(text);
}

export function isAuditPhase(text: string): text is AuditPhase {
  return PHASES.has(text);
}

export function isAuditOutcome(text: string): text is AuditOutcome {
  return OUTCOMES.has(text);
}

/**
 * NUL cannot be stored in PostgreSQL text, and a lone surrogate does not survive UTF-8: either would make
 * the stored record differ from the hashed one. A client can put both in a user name it claims, so they
 * are replaced (U+FFFD) rather than refused.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this finds
const MAYBE_UNSTORABLE = /[\u0000\uD800-\uDFFF]/;
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
  // Most texts hold neither: a plain character-class test is far cheaper than the replace's lookarounds.
  return MAYBE_UNSTORABLE.test(value) ? value.replace(UNSTORABLE, '\uFFFD') : value;
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

declare const checkedByStorableAuditEvent: unique symbol;

/**
 * An event as a store keeps it, with the texts it is stored and hashed as. Only `storableAuditEvent`
 * makes one (the brand), so a store can write it without checking it again.
 */
export interface StorableAuditEvent {
  /** The event as its stored form reads back: the one a caller is answered with. */
  readonly event: AuditEvent;
  /** `at` as ISO 8601, as the chain hashes it. */
  readonly atIso: string;
  /** Canonical JSON of `told`, or null. */
  readonly toldJson: string | null;
  /** Canonical JSON of `details`, whose parse encodes back to the same text. */
  readonly detailsJson: string;
  readonly [checkedByStorableAuditEvent]: true;
}

/**
 * The event as a store keeps it, and its told and details as canonical JSON. Details are kept as
 * canonical JSON, whose parse encodes back to the same text, so the hash of these texts is the hash
 * of the record read later. Throws (TypeError, RangeError) for an event the log cannot store, so
 * callers can check an event before queueing it with others.
 */
export function storableAuditEvent(event: AuditEvent): StorableAuditEvent {
  if (!isAuditKind(event.kind)) {
    throw new TypeError(`unknown audit kind ${String(event.kind)}`);
  }
  if (!isAuditPhase(event.phase)) {
    throw new TypeError(`unknown audit phase ${String(event.phase)}`);
  }
  if (!isAuditOutcome(event.outcome)) {
    throw new TypeError(`unknown audit outcome ${String(event.outcome)}`);
  }
  if (!(event.at instanceof Date) || Number.isNaN(event.at.getTime())) {
    throw new TypeError("an audit event's at must be a valid Date");
  }
  const detailsJson = storableDetails(event.details);
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
    // The caller's object, which it must not change once recorded (AuditLog.record); what is kept and
    // hashed is detailsJson.
    details: event.details,
  };
  return {
    event: stored,
    atIso: stored.at.toISOString(),
    toldJson: stored.told === null ? null : canonicalJson(stored.told),
    detailsJson,
  } as StorableAuditEvent;
}
