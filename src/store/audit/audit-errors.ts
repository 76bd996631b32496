/** Errors of the audit store that its callers tell apart. */

/** A stored audit row this build cannot decode: reported with its seq, so verification can name it. */
export class AuditRecordUnreadableError extends Error {
  constructor(
    readonly seq: number,
    why: string,
  ) {
    super(`record ${seq} cannot be read: ${why}`);
    this.name = 'AuditRecordUnreadableError';
  }
}
