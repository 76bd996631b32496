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

export { AuditChainBrokenError, AuditUnavailableError, type AuditUnavailableReason } from './audit-errors.js';

/**
 * Accepts every event and stores nothing. Only for benchmarks that measure what auditing costs: a
 * server running with it has no audit log at all.
 */
export class NoopAuditSink implements Auditor {
  record(event: AuditEvent): Promise<AuditRecord> {
    return Promise.resolve({ ...event, seq: 0, prevHash: GENESIS_HASH, hash: GENESIS_HASH });
  }
}
