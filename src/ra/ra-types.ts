/** What the RA's parts share: the policy they read and the view of a request they answer. */
import type { RecordsWithinWrites } from '../audit/auditor.js';
import type { AuditSink } from '../audit/event.js';
import type { PossessionChecker } from '../ca/csr.js';
import type { AutosignPolicy } from '../domain/autosign.js';
import type { ReservedNames } from '../domain/reserved-names.js';
import type { Store } from '../store/certificates/store.js';
import type { CertificateRequest, Clock, IssuedCertificate } from '../types.js';
import type { EnrollerRegistry } from './enrollers/index.js';
import type { RenewalPolicy } from './renewal-policy.js';
import type { Signer, Triggers } from './signing.js';

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

/** What the RA is built from: the instance wires them (src/instance/open.ts). */
export interface RaDeps {
  store: Store;
  signer: Signer;
  triggers: Triggers;
  clock: Clock;
  policy: () => RaPolicy;
  /** Who may have which names signed: one enroller per kind of caller (src/ra/enrollers). */
  enrollers: EnrollerRegistry;
  audit?: AuditSink;
  /**
   * The audit log behind `audit`, when the store may write an issuance's success record in the
   * certificate's own transaction (audited.ts); absent, every record is appended on its own.
   */
  recordsWithin?: RecordsWithinWrites;
  /** Checks CSRs' proofs of possession: the crypto threads in a server, this thread by default. */
  csrChecker?: PossessionChecker;
}
