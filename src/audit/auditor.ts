/**
 * What the layers that write audit records depend on (the Auditor), the errors the log answers with,
 * and the no-op sink of the audit-cost benchmark: apart from log.ts so that wrappers of the log (the
 * flood summariser) need not import the writer itself.
 */
import type { AuditEvent } from './types.js';

/** What other layers depend on: the real log, or (in benchmarks only) the no-op sink. */
export interface Auditor {
  record(event: AuditEvent): Promise<unknown>;
}

export { AuditChainBrokenError, AuditUnavailableError, type AuditUnavailableReason } from './audit-errors.js';

/** One settled promise for every call: the sink's own cost must not count as auditing's. */
const ACCEPTED: Promise<undefined> = Promise.resolve(undefined);

/**
 * Accepts every event and stores nothing. Only for benchmarks that measure what auditing costs: a
 * server running with it has no audit log at all. It builds no record (callers of `record` only wait
 * for it), so the benchmark's baseline is the front door with auditing taken out, not a copy of it.
 */
export class NoopAuditSink implements Auditor {
  record(_event: AuditEvent): Promise<undefined> {
    return ACCEPTED;
  }
}
