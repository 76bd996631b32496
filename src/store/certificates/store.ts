/**
 * The store's interface: the only door to persisted state. Implementations live beside this file
 * and are the only code in the project that writes SQL.
 */
import type { StorableAuditEvent } from '../../audit/storable-event.js';
import type { AuditLink } from '../../audit/storage-port.js';
import type { CertificateRequest, IssuedCertificate, RequestState } from '../../types.js';

export type { CertificateFilter } from '../../domain/certificate-filter.js';
export type { PageKey } from '../../domain/page-key.js';

import type { CertificateFilter } from '../../domain/certificate-filter.js';
import type { PageKey } from '../../domain/page-key.js';

export type SubmitOutcome =
  | {
      kind: 'created';
      request: CertificateRequest;
      certificate: IssuedCertificate | null;
      /** Where each of `SubmitOptions.records` went in the audit chain, when some were given. */
      recorded?: AuditLink[];
    }
  /** The same CSR (same SHA-256) was submitted before: the existing request, unchanged. */
  | { kind: 'existing'; request: CertificateRequest; certificate: IssuedCertificate | null }
  /** Another CSR for this common name is pending. */
  | { kind: 'conflict_pending'; existing: CertificateRequest }
  /** This common name holds a certificate that is neither revoked nor expired. */
  | { kind: 'conflict_certificate'; existing: IssuedCertificate };

export interface SubmitOptions {
  /** When false, a valid (unrevoked, unexpired at `now`) certificate for the CN is a conflict. */
  allowDuplicateCertificates: boolean;
  now: Date;
  /**
   * Revoke this certificate (a renewal's predecessor, `ra.revoke_on_renew`) in the same transaction
   * that stores the new one, so a host never ends up with neither or both.
   */
  supersede?: { serial: string; reason: string };
  /**
   * Audit records of this submission (its request and its success), appended to the audit chain in
   * order in the same transaction when (and only when) the request is created: the request, its
   * certificate and the records of them become durable together.
   */
  records?: readonly StorableAuditEvent[];
}

export interface CleanResult {
  requestsRemoved: number;
  certificatesRevoked: string[];
}

/** Thrown when a generated serial already exists: the caller draws a new one and retries. */
export class SerialCollisionError extends Error {
  constructor(readonly serial: string) {
    super(`serial ${serial} already exists`);
    this.name = 'SerialCollisionError';
  }
}

/**
 * The certificate a renewal was to supersede was revoked meanwhile (a concurrent renewal of the same
 * certificate, or an operator): nothing was stored, so one certificate renews into at most one.
 */
export class SupersedeConflictError extends Error {
  constructor(readonly serial: string) {
    super(`certificate ${serial} is already revoked`);
    this.name = 'SupersedeConflictError';
  }
}

/**
 * The audit records of a submission (SubmitOptions.records) could not be written, so nothing was stored:
 * the caller answers as for any audit log that cannot be written.
 */
export class SubmissionRecordError extends Error {
  constructor(cause: unknown) {
    super('the audit records of the submission could not be written; nothing was stored', { cause });
    this.name = 'SubmissionRecordError';
  }
}

export interface Store {
  /**
   * Atomically: if a request with `request.csrSha256` exists, return it (`existing`); else if a
   * pending request for `request.commonName` exists, `conflict_pending`; else (unless allowed) if a
   * valid certificate for the CN exists, `conflict_certificate`; else insert the request and, when
   * given (autosign), the certificate, in one durable transaction. Resolves only after commit.
   */
  submitRequest(
    request: CertificateRequest,
    certificate: IssuedCertificate | null,
    options: SubmitOptions,
  ): Promise<SubmitOutcome>;
  getRequest(id: string): Promise<CertificateRequest | null>;
  /** Newest first; `after` continues a listing past the last item of the page before (keyset paging). */
  listRequests(filter: {
    state?: RequestState;
    commonName?: string;
    limit?: number;
    after?: PageKey;
  }): Promise<CertificateRequest[]>;
  findRequestByCsrSha256(sha256: string): Promise<CertificateRequest | null>;
  /** pending -> issued with the certificate, atomically. Returns null when the request is not pending. */
  approveRequest(
    id: string,
    certificate: IssuedCertificate,
    decidedBy: string,
    at: Date,
  ): Promise<CertificateRequest | null>;
  /** pending -> rejected. Returns null when the request is not pending. */
  rejectRequest(
    id: string,
    decidedBy: string,
    reason: string | null,
    at: Date,
  ): Promise<CertificateRequest | null>;
  getCertificate(serial: string): Promise<IssuedCertificate | null>;
  /** Newest first; `after` continues a listing past the last item of the page before (keyset paging). */
  listCertificates(filter: {
    status: CertificateFilter;
    commonName?: string;
    limit?: number;
    after?: PageKey;
  }): Promise<IssuedCertificate[]>;
  /** Returns the updated record, or null when unknown. Revoking a revoked certificate keeps the first revocation. */
  revokeCertificate(serial: string, reason: string, at: Date): Promise<IssuedCertificate | null>;
  /**
   * Removes every request for `commonName` and revokes (reason cessationOfOperation) each of its
   * certificates that is not yet revoked; certificates stay recorded, because a CA must never forget
   * what it signed (CRLs and OCSP answer for them).
   */
  cleanHost(commonName: string, at: Date): Promise<CleanResult>;
  /** Schema version applied, and whether the store answers. */
  health(): Promise<{ ok: boolean; schemaVersion: number }>;
  close(): Promise<void>;
}
