/** What GET /v1/audit reads of the audit log; the route never reaches the store, which implements this. */
import type { AuditFilter, AuditRecord } from './types.js';

export interface AuditReader {
  /** Oldest first, unless `newestFirst`. */
  queryAudit(filter: AuditFilter & { newestFirst?: boolean }): Promise<AuditRecord[]>;
}
