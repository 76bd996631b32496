/** The wire form of an audit record, shared by GET /v1/audit and `explain --server`. */
import { z } from 'zod';
import type { AuditKind, AuditRecord } from '../../audit/types.js';

/** The JSON form of an audit record (snake_case, ISO 8601 times), as GET /v1/audit answers it. */
export function auditRecordJson(record: AuditRecord) {
  return {
    seq: record.seq,
    at: record.at.toISOString(),
    request_id: record.requestId,
    kind: record.kind,
    phase: record.phase,
    outcome: record.outcome,
    reason: record.reason,
    principal: record.principal,
    claimed_name: record.claimedName,
    method: record.method,
    credential_id: record.credentialId,
    client_address: record.clientAddress,
    cause: record.cause,
    told: record.told
      ? { status: record.told.status, detail: record.told.detail, hint: record.told.hint }
      : null,
    target: record.target,
    details: record.details,
    prev_hash: record.prevHash,
    hash: record.hash,
  };
}

export type AuditRecordJson = ReturnType<typeof auditRecordJson>;

const text = (max: number) => z.string().max(max);
const optionalText = (max: number) => text(max).nullable();

const AuditRecordWire = z.object({
  seq: z.number().int().nonnegative(),
  at: z.iso.datetime({ offset: true }),
  request_id: text(256),
  // A newer server may record kinds this client does not know: they are shown, never acted on.
  kind: text(64),
  phase: z.enum(['request', 'response', 'decision']),
  outcome: z.enum(['success', 'failure']),
  reason: optionalText(64),
  principal: optionalText(512),
  claimed_name: optionalText(512),
  method: optionalText(64),
  credential_id: optionalText(256),
  client_address: optionalText(128),
  cause: optionalText(4096),
  told: z.object({ status: z.number().int(), detail: text(4096), hint: text(4096) }).nullable(),
  target: optionalText(1024),
  details: z.record(z.string(), z.unknown()),
  prev_hash: text(256),
  hash: text(256),
});

/** Most records one request can have that `explain --server` reads: a request leaves a handful. */
export const MAX_WIRE_RECORDS = 1000;

/** Reads GET /v1/audit's `{ records: [...] }`; throws an Error saying what is wrong with it. */
export function auditRecordsFromJson(body: unknown): AuditRecord[] {
  const parsed = z.object({ records: z.array(z.unknown()).max(MAX_WIRE_RECORDS) }).safeParse(body);
  if (!parsed.success) throw new Error('the server answered GET /v1/audit without a list of records');
  return parsed.data.records.map((item, index) => {
    const one = AuditRecordWire.safeParse(item);
    if (!one.success) {
      const issue = one.error.issues[0];
      throw new Error(
        `audit record ${index} from the server does not parse: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      );
    }
    const r = one.data;
    return {
      seq: r.seq,
      at: new Date(r.at),
      requestId: r.request_id,
      kind: r.kind as AuditKind,
      phase: r.phase,
      outcome: r.outcome,
      reason: r.reason,
      principal: r.principal,
      claimedName: r.claimed_name,
      method: r.method,
      credentialId: r.credential_id,
      clientAddress: r.client_address,
      cause: r.cause,
      told: r.told,
      target: r.target,
      details: r.details,
      prevHash: r.prev_hash,
      hash: r.hash,
    };
  });
}
