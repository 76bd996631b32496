/**
 * What the operator routes read of the registry: the requests and the certificates, newest first,
 * page by page. The RA owns this view so that routes never reach the store; the instance wires the
 * store, which implements it.
 */
import type { CertificateFilter } from '../domain/certificate-filter.js';
import type { PageKey } from '../domain/page-key.js';
import type { CertificateRequest, IssuedCertificate, RequestState } from '../types.js';

export type { CertificateFilter } from '../domain/certificate-filter.js';

export interface RegistryQueries {
  /** Newest first; `after` continues a listing past the last item of the page before (keyset paging). */
  listRequests(filter: {
    state?: RequestState;
    commonName?: string;
    limit?: number;
    after?: PageKey;
  }): Promise<CertificateRequest[]>;
  getCertificate(serial: string): Promise<IssuedCertificate | null>;
  /** Newest first; `after` continues a listing past the last item of the page before (keyset paging). */
  listCertificates(filter: {
    status: CertificateFilter;
    commonName?: string;
    limit?: number;
    after?: PageKey;
  }): Promise<IssuedCertificate[]>;
}
