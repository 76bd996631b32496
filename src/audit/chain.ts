/**
 * The audit log's hash chain: each record's hash covers its predecessor's hash, its sequence number and
 * its content, so changing, removing or reordering any stored record breaks every link after it.
 * Signed checkpoints (checkpoint.ts) anchor the chain where records were pruned and vouch for heads, so
 * cutting records off the end is caught too, back to the last checkpoint.
 */
import { hash, type KeyObject } from 'node:crypto';
import { AuditRecordUnreadableError } from './audit-errors.js';
import { canonicalJson } from './canonical-json.js';
import { verifyCheckpoint } from './checkpoint.js';
import type { AuditStore } from './storage-port.js';
import type { AuditCheckpoint, AuditEvent, AuditRecord } from './types.js';

/** The predecessor of the first record ever written. */
export const GENESIS_HASH = '0'.repeat(64);

/** Tags the encoding, so a future change of it cannot be mistaken for tampering (or vice versa). */
const ENCODING_TAG = 'certmaster-audit/v1';

/**
 * An event's hashed fields in the form they are encoded: `at` as ISO 8601, `told` and `details` as
 * their canonical JSON (`null` for no told). What a store keeps is exactly these texts, so it can
 * hash a record from its row without rebuilding the event.
 */
export type AuditHashFields = Pick<
  AuditEvent,
  | 'requestId'
  | 'reason'
  | 'principal'
  | 'claimedName'
  | 'method'
  | 'credentialId'
  | 'clientAddress'
  | 'cause'
  | 'target'
> & {
  atIso: string;
  /** Read back from a row, so any text: what a row holds was checked when it was written. */
  kind: string;
  phase: string;
  outcome: string;
  toldJson: string;
  detailsJson: string;
};

/**
 * SHA-256 (hex) of the record's canonical encoding: the canonicalJson of a JSON array in a fixed field
 * order (encoding tag, prevHash, seq, at as ISO 8601, requestId, kind, phase, outcome, reason,
 * principal, claimedName, method, credentialId, clientAddress, cause, told, target, details).
 */
export function hashAuditFields(prevHash: string, seq: number, f: AuditHashFields): string {
  // The scalar fields are strings, numbers and nulls, which JSON.stringify already writes canonically.
  const scalars = JSON.stringify([
    ENCODING_TAG,
    prevHash,
    seq,
    f.atIso,
    f.requestId,
    f.kind,
    f.phase,
    f.outcome,
    f.reason,
    f.principal,
    f.claimedName,
    f.method,
    f.credentialId,
    f.clientAddress,
    f.cause,
  ]);
  const encoding = `${scalars.slice(0, -1)},${f.toldJson},${JSON.stringify(f.target)},${f.detailsJson}]`;
  // One-shot crypto.hash (Node >= 20.12): no Hash object per record, on the audit log's hot path.
  return hash('sha256', encoding, 'hex');
}

/**
 * `hashAuditFields` of an event as it reads back. Reads only the event's own fields, so a stored
 * AuditRecord can be passed as it is.
 */
export function hashAuditRecord(prevHash: string, seq: number, event: AuditEvent): string {
  return hashAuditFields(prevHash, seq, {
    atIso: event.at.toISOString(),
    requestId: event.requestId,
    kind: event.kind,
    phase: event.phase,
    outcome: event.outcome,
    reason: event.reason,
    principal: event.principal,
    claimedName: event.claimedName,
    method: event.method,
    credentialId: event.credentialId,
    clientAddress: event.clientAddress,
    cause: event.cause,
    toldJson: canonicalJson(event.told),
    target: event.target,
    detailsJson: canonicalJson(event.details),
  });
}

export type AuditVerification =
  | { ok: true; records: number; checkpoints: number }
  | { ok: false; firstBrokenSeq: number; why: string };

export interface VerifyAuditChainOptions {
  /** The audit keys' public halves by key id; a checkpoint signed by any other key fails. */
  publicKeys: ReadonlyMap<string, KeyObject>;
  /** Records read per query: bounds memory whatever the log's size. */
  pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 1000;
/** Keeps a page within the store's own list limit. */
const MAX_PAGE_SIZE = 10_000;

function broken(firstBrokenSeq: number, why: string): AuditVerification {
  return { ok: false, firstBrokenSeq, why };
}

/** The newest checkpoint that replaced pruned records, or null when nothing was ever pruned. */
function latestPruneCheckpoint(checkpoints: readonly AuditCheckpoint[]): AuditCheckpoint | null {
  let latest: AuditCheckpoint | null = null;
  for (const checkpoint of checkpoints) {
    if (checkpoint.prunedBefore !== null && (latest === null || checkpoint.seq > latest.seq)) {
      latest = checkpoint;
    }
  }
  return latest;
}

/**
 * A page of records; when a stored row cannot even be decoded (a tampered kind, a date that is not
 * one), the records before it, then a marker naming its seq, so the walk still reports breaks in order.
 */
async function readPage(
  store: AuditStore,
  from: number,
  to: number,
  limit: number,
): Promise<{ records: AuditRecord[]; unreadable: AuditRecordUnreadableError | null }> {
  try {
    return { records: await store.auditRange(from, to, limit), unreadable: null };
  } catch (error) {
    if (!(error instanceof AuditRecordUnreadableError)) {
      throw error;
    }
    const before = error.seq > from ? await store.auditRange(from, error.seq - 1, limit) : [];
    return { records: before, unreadable: error };
  }
}

/**
 * Walks the log oldest first, a page at a time, and checks that: the chain starts at genesis or, when
 * records were pruned, at the latest prune checkpoint (whose signature verifies, and whose hash the
 * first remaining record links to); no seq is missing; every record's hash recomputes and links to its
 * predecessor's; every checkpoint for a record still present is signed by a known key and names that
 * record's hash; no checkpoint vouches for a record past the end (records cut off the tail).
 *
 * Records appended while it walks are left for the next run. A prune running at the same time can make
 * it report records missing at the start: run it again.
 */
export async function verifyAuditChain(
  store: AuditStore,
  options: VerifyAuditChainOptions,
): Promise<AuditVerification> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE) {
    throw new RangeError(`pageSize must be an integer from 1 to ${MAX_PAGE_SIZE}`);
  }
  // Checkpoints first, head second: a checkpoint is written only after its record committed, so every
  // checkpoint listed here names a record at or before the head read below.
  const checkpoints = [...(await store.listAuditCheckpoints())].sort((a, b) => a.seq - b.seq);
  const head = await store.auditHead();

  const start = latestPruneCheckpoint(checkpoints);
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let checked = 0;
  if (start !== null) {
    if (!verifyCheckpoint(start, options.publicKeys)) {
      return broken(
        start.seq,
        `the prune checkpoint at record ${start.seq} has a signature that does not verify with a known audit key`,
      );
    }
    if (start.prunedBefore !== start.seq + 1) {
      return broken(
        start.seq,
        `the prune checkpoint at record ${start.seq} says records before ${start.prunedBefore} were pruned, not before ${start.seq + 1}`,
      );
    }
    checked++;
    expectedSeq = start.seq + 1;
    prevHash = start.hash;
  }

  const { records: stale, unreadable: staleUnreadable } = await readPage(
    store,
    Number.MIN_SAFE_INTEGER,
    expectedSeq - 1,
    1,
  );
  if (staleUnreadable !== null) {
    return broken(staleUnreadable.seq, staleUnreadable.message);
  }
  if (stale[0] !== undefined) {
    return broken(
      stale[0].seq,
      `record ${stale[0].seq} lies before the chain's start at record ${expectedSeq}`,
    );
  }

  // Checkpoints at the start's own seq vouch for the hash the chain starts from.
  let next = 0;
  for (; next < checkpoints.length; next++) {
    const checkpoint = checkpoints[next]!;
    if (checkpoint.seq >= expectedSeq) {
      break;
    }
    if (checkpoint === start || checkpoint.seq < expectedSeq - 1) {
      continue;
    }
    if (!verifyCheckpoint(checkpoint, options.publicKeys)) {
      return broken(checkpoint.seq, badSignature(checkpoint));
    }
    if (checkpoint.hash !== prevHash) {
      return broken(
        checkpoint.seq,
        `the checkpoint at record ${checkpoint.seq} disagrees with the prune checkpoint`,
      );
    }
    checked++;
  }

  let records = 0;
  const lastSeq = head?.seq ?? expectedSeq - 1;
  while (expectedSeq <= lastSeq) {
    const { records: page, unreadable } = await readPage(store, expectedSeq, lastSeq, pageSize);
    for (const record of page) {
      if (record.seq !== expectedSeq) {
        return broken(
          expectedSeq,
          `record ${expectedSeq} is missing (the next stored record is ${record.seq})`,
        );
      }
      if (hashAuditRecord(record.prevHash, record.seq, record) !== record.hash) {
        return broken(record.seq, `record ${record.seq} does not match its hash: its content was altered`);
      }
      if (record.prevHash !== prevHash) {
        // This record is intact (its hash covers its prev_hash), so what it was chained to changed:
        // its predecessor was replaced by one with a recomputed hash, unless this is the first record.
        return records === 0
          ? broken(record.seq, `record ${record.seq} does not link to the start of the chain`)
          : broken(
              record.seq - 1,
              `record ${record.seq - 1} was replaced: record ${record.seq} was chained to a different one`,
            );
      }
      for (; next < checkpoints.length && checkpoints[next]!.seq === record.seq; next++) {
        const checkpoint = checkpoints[next]!;
        if (!verifyCheckpoint(checkpoint, options.publicKeys)) {
          return broken(checkpoint.seq, badSignature(checkpoint));
        }
        if (checkpoint.hash !== record.hash) {
          return broken(
            record.seq,
            `record ${record.seq} is not the record its signed checkpoint vouches for`,
          );
        }
        checked++;
      }
      prevHash = record.hash;
      expectedSeq++;
      records++;
    }
    if (unreadable !== null) {
      return broken(unreadable.seq, unreadable.message);
    }
    if (page.length === 0) {
      return broken(expectedSeq, `records ${expectedSeq} to ${lastSeq} are missing`);
    }
  }

  const beyond = checkpoints[next];
  if (beyond !== undefined) {
    if (!verifyCheckpoint(beyond, options.publicKeys)) {
      return broken(beyond.seq, badSignature(beyond));
    }
    return broken(
      expectedSeq,
      `a signed checkpoint vouches for record ${beyond.seq}, but the log ends at record ${expectedSeq - 1}: records were removed from its end`,
    );
  }
  return { ok: true, records, checkpoints: checked };
}

function badSignature(checkpoint: AuditCheckpoint): string {
  return `the checkpoint at record ${checkpoint.seq} has a signature that does not verify with a known audit key`;
}
