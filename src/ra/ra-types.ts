/** What the RA's parts share: the policy they read and the view of a request they answer. */
import type { AutosignPolicy } from '../domain/autosign.js';
import type { ReservedNames } from '../domain/reserved-names.js';
import type { CertificateRequest, IssuedCertificate } from '../types.js';
import type { RenewalPolicy } from './renewal-policy.js';

export interface RaPolicy {
  autosign: AutosignPolicy;
  allowWildcards: boolean;
  maxNames: number;
  minRsaBits: number;
  allowDuplicateCertificates: boolean;
  leafValidityDays: number;
  pendingRetryAfterSeconds: number;
  /** Names only an operator signs: the server's own, loopback, and `ra.reserved_names`. */
  reserved: ReservedNames;
  /** When a host may renew its certificate by presenting it (`ra.renew_*`). */
  renewal: RenewalPolicy;
}

export interface RequestView {
  request: CertificateRequest;
  certificate: IssuedCertificate | null;
  /** True when this CSR had been submitted before and the earlier request is returned. */
  existing: boolean;
}
