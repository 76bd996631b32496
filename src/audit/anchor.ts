/**
 * Anchoring the audit chain outside the database. Checkpoints stored next to the records can be deleted
 * together with the newest records (a tail cut), and records after the last checkpoint can be rewritten
 * with recomputed hashes: the chain still verifies from inside. A signed checkpoint the operator keeps
 * elsewhere (exported here as one line of JSON) catches both: the log must still hold the record it names,
 * with the same hash, or have pruned past it behind a checkpoint that vouches for the same hash.
 */
import type { KeyObject } from 'node:crypto';
import { verifyCheckpoint } from './checkpoint.js';
import type { AuditStore } from './storage-port.js';
import type { AuditCheckpoint } from './types.js';

/** How much of the log the stored checkpoints vouch for. */
export interface AuditCoverage {
  /** Records after the newest checkpoint: a cut or rewrite of these is only caught by an anchor. */
  uncovered: number;
  /** When the newest checkpoint was signed, or null when there is none. */
  newestCheckpointAt: Date | null;
  newestCheckpointSeq: number | null;
}

/** The exported form: a versioned JSON object with the checkpoint's signed fields. */
export interface AuditAnchorJson {
  format: 'certmaster-audit-anchor/v1';
  seq: number;
  hash: string;
  at: string;
  pruned_before: number | null;
  key_id: string;
  signature: string;
}

export type AnchorVerification = { ok: true } | { ok: false; why: string };

/** An anchor file is one small JSON object; anything larger is not one. */
export const MAX_ANCHOR_BYTES = 4096;

function newest(checkpoints: readonly AuditCheckpoint[]): AuditCheckpoint | null {
  let latest: AuditCheckpoint | null = null;
  for (const checkpoint of checkpoints) {
    if (latest === null || checkpoint.seq > latest.seq) {
      latest = checkpoint;
    }
  }
  return latest;
}

export async function auditCoverage(store: AuditStore): Promise<AuditCoverage> {
  const latest = newest(await store.listAuditCheckpoints());
  const head = await store.auditHead();
  const headSeq = head?.seq ?? 0;
  return {
    uncovered: Math.max(0, headSeq - (latest?.seq ?? 0)),
    newestCheckpointAt: latest?.at ?? null,
    newestCheckpointSeq: latest?.seq ?? null,
  };
}

export function anchorToJson(checkpoint: AuditCheckpoint): AuditAnchorJson {
  return {
    format: 'certmaster-audit-anchor/v1',
    seq: checkpoint.seq,
    hash: checkpoint.hash,
    at: checkpoint.at.toISOString(),
    pruned_before: checkpoint.prunedBefore,
    key_id: checkpoint.keyId,
    signature: checkpoint.signature,
  };
}

/** Parses an exported anchor; throws a TypeError naming what is wrong. The signature is checked later. */
export function anchorFromJson(text: string): AuditCheckpoint {
  if (text.length > MAX_ANCHOR_BYTES) {
    throw new TypeError(`an audit anchor is at most ${MAX_ANCHOR_BYTES} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TypeError('the audit anchor is not JSON');
  }
  const json = value as Partial<AuditAnchorJson> | null;
  if (json === null || typeof json !== 'object' || json.format !== 'certmaster-audit-anchor/v1') {
    throw new TypeError('the file is not a certmaster audit anchor (format certmaster-audit-anchor/v1)');
  }
  const { seq, hash, at, pruned_before: prunedBefore, key_id: keyId, signature } = json;
  if (
    typeof seq !== 'number' ||
    !Number.isSafeInteger(seq) ||
    seq < 1 ||
    typeof hash !== 'string' ||
    typeof at !== 'string' ||
    Number.isNaN(Date.parse(at)) ||
    !(prunedBefore === null || (typeof prunedBefore === 'number' && Number.isSafeInteger(prunedBefore))) ||
    typeof keyId !== 'string' ||
    typeof signature !== 'string'
  ) {
    throw new TypeError('the audit anchor lacks a field or has one of the wrong type');
  }
  return { seq, hash, at: new Date(at), prunedBefore: prunedBefore ?? null, keyId, signature };
}

/**
 * Checks that the log still contains, or extends, the anchored checkpoint: its signature verifies with a
 * known audit key, and the record it names is stored with the same hash, or was pruned behind a signed
 * prune checkpoint at or after it (the anchored record itself is then checked when the prune checkpoint
 * names it). Run together with verifyAuditChain, which checks everything after that record links to it.
 */
export async function verifyAgainstAnchor(
  store: AuditStore,
  anchor: AuditCheckpoint,
  publicKeys: ReadonlyMap<string, KeyObject>,
): Promise<AnchorVerification> {
  if (!verifyCheckpoint(anchor, publicKeys)) {
    return { ok: false, why: 'the anchor is not signed by a known audit key' };
  }
  const head = await store.auditHead();
  if (head === null || head.seq < anchor.seq) {
    return {
      ok: false,
      why: `the anchor vouches for record ${anchor.seq}, but the log ends at record ${head?.seq ?? 0}: records were removed from its end`,
    };
  }
  const record = (await store.auditRange(anchor.seq, anchor.seq, 1))[0];
  if (record !== undefined) {
    return record.hash === anchor.hash
      ? { ok: true }
      : { ok: false, why: `record ${anchor.seq} is not the record the anchor vouches for: it was rewritten` };
  }
  const pruneCheckpoint = newest(
    (await store.listAuditCheckpoints()).filter(
      (checkpoint) => checkpoint.prunedBefore !== null && checkpoint.seq >= anchor.seq,
    ),
  );
  if (pruneCheckpoint === null) {
    return { ok: false, why: `record ${anchor.seq}, which the anchor vouches for, is missing` };
  }
  if (pruneCheckpoint.seq === anchor.seq && pruneCheckpoint.hash !== anchor.hash) {
    return { ok: false, why: `record ${anchor.seq} was pruned with a different hash than the anchor's` };
  }
  return { ok: true };
}
