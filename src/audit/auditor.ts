/**
 * What the layers that write audit records depend on (the Auditor), the errors the log answers with,
 * and the no-op sink of the audit-cost benchmark: apart from log.ts so that wrappers of the log (the
 * flood summariser) need not import the writer itself.
 */
import type { AuditUnavailableError } from './audit-errors.js';
import type { StorableAuditEvent } from './storable-event.js';
import type { AuditLink } from './storage-port.js';
import type { AuditEvent, AuditRecord } from './types.js';

/** What other layers depend on: the real log, or (in benchmarks only) the no-op sink. */
export interface Auditor {
  record(event: AuditEvent): Promise<unknown>;
}

/**
 * An audit log whose records the store may write inside another write: an issuance's records (its
 * request's and its success's) in the certificate's own transaction, so that the certificate and its
 * records become durable together (one commit instead of three, and no moment where one exists without
 * the other).
 */
export interface RecordsWithinWrites {
  /**
   * Checks `event` as `record` does and answers it ready for the store. Throws what `record` would
   * reject with: AuditUnavailableError after close, TypeError or RangeError for an event never storable.
   */
  prepareWithin(event: AuditEvent): StorableAuditEvent;
  /** The store wrote `event` at `link`: the log counts it toward its checkpoints like its own appends. */
  writtenWithin(event: StorableAuditEvent, link: AuditLink): AuditRecord;
  /**
   * The store could not write a prepared event (and so stored nothing of the write that carried it):
   * the log notes it as it notes a failed append of its own, and answers the error to refuse with.
   */
  failedWithin(error: unknown): AuditUnavailableError;
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
