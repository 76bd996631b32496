/**
 * The one refusal the audit log cannot hold is the 503 it causes itself: when a record cannot be
 * written, the request id, time and route go to this file instead (one JSON line each), so that
 * `certmaster explain ID` can still say "the audit log could not be written at T" rather than
 * "no audit record". The server log carries the same line under the request id.
 *
 * An outage can last while anonymous callers keep asking, so the file is bounded: past
 * MAX_OUTAGE_BYTES nothing more is appended (the server log still has every line).
 */

import { appendFileSync, closeSync, fsyncSync, openSync, readFileSync, statSync } from 'node:fs';
import type { AuditRecord } from './types.js';

/** About 50 000 entries: hours of a busy outage, and still quick to scan. */
export const MAX_OUTAGE_BYTES = 8 * 1024 * 1024;

export interface OutageEntry {
  requestId: string;
  at: Date;
  /** "POST /v1/requests". */
  target: string;
  /** Why the write failed (closed, queue_full, write_failed), never a secret. */
  why: string;
}

export interface OutageNotes {
  note(entry: OutageEntry): void;
}

export class AuditOutageLog implements OutageNotes, OutageLookup {
  constructor(readonly path: string) {}

  /** Appends one line and flushes it to disk; never throws (the 503 goes out regardless). */
  note(entry: OutageEntry): void {
    try {
      if (sizeOf(this.path) >= MAX_OUTAGE_BYTES) return;
      const line = `${JSON.stringify({
        request_id: entry.requestId,
        at: entry.at.toISOString(),
        target: entry.target,
        why: entry.why,
      })}\n`;
      appendFileSync(this.path, line, { mode: 0o600 });
      const fd = openSync(this.path, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch {
      // The disk that refused the audit log may refuse this too; the server log has the line.
    }
  }

  /** The entry for a request id, when the audit log could not record it. */
  find(requestId: string): OutageEntry | null {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return null;
    }
    for (const line of text.split('\n')) {
      if (!line.includes(requestId)) continue;
      const entry = parseLine(line);
      if (entry?.requestId === requestId) return entry;
    }
    return null;
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function parseLine(line: string): OutageEntry | null {
  try {
    const value = JSON.parse(line) as Record<string, unknown>;
    const { request_id: requestId, at, target, why } = value;
    if (typeof requestId !== 'string' || typeof at !== 'string') return null;
    return {
      requestId,
      at: new Date(at),
      target: typeof target === 'string' ? target : '',
      why: typeof why === 'string' ? why : '',
    };
  } catch {
    return null;
  }
}

/** Reads outage entries by request id: what `explain` and GET /v1/audit consult when the log has nothing. */
export interface OutageLookup {
  find(requestId: string): OutageEntry | null;
}

/**
 * The outage entry in the shape of an audit record (seq 0, no hash: it is not part of the chain),
 * so every reader of records can tell its story. `details.outage` marks it.
 */
export function outageRecord(entry: OutageEntry): AuditRecord {
  return {
    seq: 0,
    prevHash: '',
    hash: '',
    at: entry.at,
    requestId: entry.requestId,
    kind: 'http.refused',
    phase: 'decision',
    outcome: 'failure',
    reason: 'audit_unavailable',
    principal: null,
    claimedName: null,
    method: null,
    credentialId: null,
    clientAddress: null,
    cause: `the audit log could not be written at ${entry.at.toISOString()} (${entry.why})`,
    told: {
      status: 503,
      detail: 'the audit log cannot be written, so nothing was done',
      hint: 'try again shortly',
    },
    target: entry.target,
    details: { outage: true },
  };
}
