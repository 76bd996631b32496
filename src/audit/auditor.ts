/**
 * What the layers that write audit records depend on (the Auditor), the errors the log answers with,
 * and the no-op sink of the audit-cost benchmark: apart from log.ts so that wrappers of the log (the
 * flood summariser) need not import the writer itself.
 */
import { GENESIS_HASH } from './chain.js';
import type { AuditEvent, AuditRecord } from './types.js';

/** What other layers depend on: the real log, or (in benchmarks only) the no-op sink. */
export interface Auditor {
  record(event: AuditEvent): Promise<unknown>;
}

export type AuditUnavailableReason = 'write_failed' | 'queue_full' | 'closed';

/**
 * The event could not be recorded, so the action it describes must not happen. The HTTP layer answers
 * 503; the precise cause (for operators' logs only) is in `cause`.
 */
export class AuditUnavailableError extends Error {
  readonly code = 'audit_unavailable';

  constructor(
    readonly reason: AuditUnavailableReason,
    options?: { cause?: unknown },
  ) {
    super('the audit log cannot be written, so nothing was done', options);
    this.name = 'AuditUnavailableError';
  }
}

/** The log refused to prune because the chain does not verify: pruning would launder the tampering. */
export class AuditChainBrokenError extends Error {
  constructor(
    readonly firstBrokenSeq: number,
    readonly why: string,
  ) {
    super(`the audit chain is broken at record ${firstBrokenSeq} (${why}); nothing was pruned`);
    this.name = 'AuditChainBrokenError';
  }
}

/**
 * Accepts every event and stores nothing. Only for benchmarks that measure what auditing costs: a
 * server running with it has no audit log at all.
 */
export class NoopAuditSink implements Auditor {
  record(event: AuditEvent): Promise<AuditRecord> {
    return Promise.resolve({ ...event, seq: 0, prevHash: GENESIS_HASH, hash: GENESIS_HASH });
  }
}
