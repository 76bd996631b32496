/** The audit log's failures as its callers see them (the HTTP layer matches them by name), and its port's. */

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
 * A stored audit record the store cannot decode (a tampered kind, a date that is not one): raised by
 * the store behind the storage port (storage-port.ts) with its seq, so verification can name it.
 */
export class AuditRecordUnreadableError extends Error {
  constructor(
    readonly seq: number,
    why: string,
  ) {
    super(`record ${seq} cannot be read: ${why}`);
    this.name = 'AuditRecordUnreadableError';
  }
}
