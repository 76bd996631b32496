/**
 * The whole store: the certificate `Store` of kysely-store.ts plus the `AuthStore` and the `AuditStore`,
 * over one Kysely connection (pool) and one write executor, so identity writes and audit records join
 * the same SQLite group commit and are durable before they resolve.
 */
import type { Kysely } from 'kysely';
import type { StorableAuditEvent } from '../audit/storable-event.js';
import type { AuditLink, AuditStore } from '../audit/storage-port.js';
import type { AuditCheckpoint, AuditFilter, AuditRecord, SpaceReclaim } from '../audit/types.js';
import type { RevocationStore, RevokedEntry, StoredCrl } from '../ca/revocation-port.js';
import type { PageKey } from '../domain/page-key.js';
import type { CertificateRequest, Clock, IssuedCertificate, RequestState } from '../types.js';
import { KyselyAcmeStore } from './acme/acme-kysely-store.js';
import type { AcmeStore } from './acme/acme-store.js';
import { type AuditDialect, KyselyAuditStore } from './audit/audit-kysely-store.js';
import { KyselyStore } from './certificates/kysely-store.js';
import type { StoreDatabase } from './certificates/schema.js';
import type {
  CertificateFilter,
  CleanResult,
  Store,
  SubmitOptions,
  SubmitOutcome,
} from './certificates/store.js';
import { type CompiledReads, kyselyReads } from './engine/compiled-reads.js';
import { KyselyAuthStore } from './identities/auth-kysely-store.js';
import type {
  AuthStore,
  OAuthClientRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
  TokenRecord,
  UserPatch,
  UserRecord,
} from './identities/auth-store.js';
import { KyselyRevocationStore } from './revocation/revocation-kysely-store.js';
import type { WriteExecutor } from './write-registry.js';

/**
 * Composed by delegation: each aggregate's store (certificates, identities, audit, revocation, ACME)
 * over the same Kysely connection and write executor; this class only forwards to them.
 */
export class KyselyCertmasterStore implements Store, AuthStore, AuditStore, RevocationStore {
  readonly #certificates: KyselyStore;
  readonly #auth: KyselyAuthStore;
  readonly #audit: KyselyAuditStore;
  readonly #revocation: KyselyRevocationStore;
  /** ACME state (RFC 8555), over the same connection and write executor. */
  readonly acme: AcmeStore;

  constructor(
    db: Kysely<StoreDatabase>,
    writer: WriteExecutor,
    clock: Clock,
    dialect: AuditDialect,
    reads: CompiledReads = kyselyReads(db),
  ) {
    this.#certificates = new KyselyStore(db, writer, clock, reads);
    this.#auth = new KyselyAuthStore(db, writer, clock, reads);
    this.#audit = new KyselyAuditStore(db, writer, dialect, reads);
    this.#revocation = new KyselyRevocationStore(db, writer);
    this.acme = new KyselyAcmeStore(db, writer);
  }

  submitRequest(
    request: CertificateRequest,
    certificate: IssuedCertificate | null,
    options: SubmitOptions,
  ): Promise<SubmitOutcome> {
    return this.#certificates.submitRequest(request, certificate, options);
  }

  getRequest(id: string): Promise<CertificateRequest | null> {
    return this.#certificates.getRequest(id);
  }

  listRequests(filter: {
    state?: RequestState;
    commonName?: string;
    limit?: number;
    after?: PageKey;
  }): Promise<CertificateRequest[]> {
    return this.#certificates.listRequests(filter);
  }

  findRequestByCsrSha256(sha256: string): Promise<CertificateRequest | null> {
    return this.#certificates.findRequestByCsrSha256(sha256);
  }

  approveRequest(
    id: string,
    certificate: IssuedCertificate,
    decidedBy: string,
    at: Date,
  ): Promise<CertificateRequest | null> {
    return this.#certificates.approveRequest(id, certificate, decidedBy, at);
  }

  rejectRequest(
    id: string,
    decidedBy: string,
    reason: string | null,
    at: Date,
  ): Promise<CertificateRequest | null> {
    return this.#certificates.rejectRequest(id, decidedBy, reason, at);
  }

  getCertificate(serial: string): Promise<IssuedCertificate | null> {
    return this.#certificates.getCertificate(serial);
  }

  listCertificates(filter: {
    status: CertificateFilter;
    commonName?: string;
    limit?: number;
    after?: PageKey;
  }): Promise<IssuedCertificate[]> {
    return this.#certificates.listCertificates(filter);
  }

  revokeCertificate(serial: string, reason: string, at: Date): Promise<IssuedCertificate | null> {
    return this.#certificates.revokeCertificate(serial, reason, at);
  }

  cleanHost(commonName: string, at: Date): Promise<CleanResult> {
    return this.#certificates.cleanHost(commonName, at);
  }

  health(): Promise<{ ok: boolean; schemaVersion: number }> {
    return this.#certificates.health();
  }

  close(): Promise<void> {
    return this.#certificates.close();
  }

  createUser(user: UserRecord): Promise<void> {
    return this.#auth.createUser(user);
  }

  getUser(name: string): Promise<UserRecord | null> {
    return this.#auth.getUser(name);
  }

  listUsers(filter: { limit?: number; after?: string } = {}): Promise<UserRecord[]> {
    return this.#auth.listUsers(filter);
  }

  updateUser(name: string, patch: UserPatch, at: Date): Promise<UserRecord | null> {
    return this.#auth.updateUser(name, patch, at);
  }

  removeUser(name: string): Promise<boolean> {
    return this.#auth.removeUser(name);
  }

  createToken(token: TokenRecord): Promise<void> {
    return this.#auth.createToken(token);
  }

  getToken(id: string): Promise<TokenRecord | null> {
    return this.#auth.getToken(id);
  }

  findTokenBySecretHash(secretHash: string): Promise<TokenRecord | null> {
    return this.#auth.findTokenBySecretHash(secretHash);
  }

  listTokens(filter: {
    owner?: string;
    kind?: TokenRecord['kind'];
    includeRevoked?: boolean;
    limit?: number;
    after?: PageKey;
  }): Promise<TokenRecord[]> {
    return this.#auth.listTokens(filter);
  }

  revokeToken(id: string, at: Date): Promise<TokenRecord | null> {
    return this.#auth.revokeToken(id, at);
  }

  touchToken(id: string, at: Date): Promise<void> {
    return this.#auth.touchToken(id, at);
  }

  consumeEnrollmentUse(id: string, at: Date): Promise<boolean> {
    return this.#auth.consumeEnrollmentUse(id, at);
  }

  createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    return this.#auth.createRefreshToken(token);
  }

  findRefreshTokenBySecretHash(secretHash: string): Promise<RefreshTokenRecord | null> {
    return this.#auth.findRefreshTokenBySecretHash(secretHash);
  }

  markRefreshTokenUsed(id: string, at: Date): Promise<boolean> {
    return this.#auth.markRefreshTokenUsed(id, at);
  }

  revokeRefreshFamily(familyId: string, at: Date): Promise<number> {
    return this.#auth.revokeRefreshFamily(familyId, at);
  }

  revokeRefreshTokensOfSubject(subject: string, at: Date): Promise<number> {
    return this.#auth.revokeRefreshTokensOfSubject(subject, at);
  }

  revokeAccessToken(jti: string, expiresAt: Date, at: Date): Promise<void> {
    return this.#auth.revokeAccessToken(jti, expiresAt, at);
  }

  accessTokenRevokedAt(jti: string, familyId: string | null): Promise<Date | null> {
    return this.#auth.accessTokenRevokedAt(jti, familyId);
  }

  createClient(client: OAuthClientRecord): Promise<void> {
    return this.#auth.createClient(client);
  }

  getClient(clientId: string): Promise<OAuthClientRecord | null> {
    return this.#auth.getClient(clientId);
  }

  listClients(): Promise<OAuthClientRecord[]> {
    return this.#auth.listClients();
  }

  updateClient(
    clientId: string,
    patch: Partial<Pick<OAuthClientRecord, 'secretHash' | 'disabled' | 'scopes'>>,
  ): Promise<OAuthClientRecord | null> {
    return this.#auth.updateClient(clientId, patch);
  }

  removeClient(clientId: string): Promise<boolean> {
    return this.#auth.removeClient(clientId);
  }

  addSigningKey(key: SigningKeyRecord): Promise<void> {
    return this.#auth.addSigningKey(key);
  }

  listSigningKeys(): Promise<SigningKeyRecord[]> {
    return this.#auth.listSigningKeys();
  }

  retireSigningKey(kid: string, retiredAt: Date, removeAfter: Date): Promise<SigningKeyRecord | null> {
    return this.#auth.retireSigningKey(kid, retiredAt, removeAfter);
  }

  appendAudit(events: readonly StorableAuditEvent[]): Promise<AuditLink[]> {
    return this.#audit.appendAudit(events);
  }

  queryAudit(filter: AuditFilter & { newestFirst?: boolean }): Promise<AuditRecord[]> {
    return this.#audit.queryAudit(filter);
  }

  auditHead(): Promise<AuditRecord | null> {
    return this.#audit.auditHead();
  }

  auditRange(from: number, to: number, limit: number): Promise<AuditRecord[]> {
    return this.#audit.auditRange(from, to, limit);
  }

  addAuditCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    return this.#audit.addAuditCheckpoint(checkpoint);
  }

  listAuditCheckpoints(): Promise<AuditCheckpoint[]> {
    return this.#audit.listAuditCheckpoints();
  }

  pruneAudit(checkpoint: AuditCheckpoint): Promise<number> {
    return this.#audit.pruneAudit(checkpoint);
  }

  settleAuditWrites(): Promise<void> {
    return this.#audit.settleAuditWrites();
  }

  reclaimAuditSpace(): Promise<SpaceReclaim> {
    return this.#audit.reclaimAuditSpace();
  }

  revocationMark(): Promise<string> {
    return this.#revocation.revocationMark();
  }

  listRevokedUnexpired(now: Date): Promise<RevokedEntry[]> {
    return this.#revocation.listRevokedUnexpired(now);
  }

  latestCrl(): Promise<StoredCrl | null> {
    return this.#revocation.latestCrl();
  }

  publishCrl(crl: StoredCrl): Promise<boolean> {
    return this.#revocation.publishCrl(crl);
  }
}
