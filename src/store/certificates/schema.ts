/**
 * The tables as Kysely sees them, and the conversions between rows and domain objects.
 *
 * Both dialects store instants as integer milliseconds since the epoch (BIGINT) and name lists as JSON
 * text, so one set of rows serves SQLite and PostgreSQL. pg returns BIGINT as a string (it may exceed
 * 2^53 in general); ours never do, so the boundary converts with a range check.
 */
import type { ColumnType, Selectable } from 'kysely';
import { isLeafProfileName } from '../../domain/leaf-profiles.js';
import type { CertificateRequest, IssuedCertificate, RequestState } from '../../types.js';
import type { AcmeTables } from '../acme/acme-schema.js';
import {
  decodeNames,
  encodeNames,
  fromMillis,
  fromOptionalMillis,
  type Millis,
  toMillis,
} from '../engine/codecs.js';
import type { AuthTables } from '../identities/auth-schema.js';

export {
  decodeNames,
  encodeNames,
  fromMillis,
  fromOptionalMillis,
  type Millis,
  toMillis,
} from '../engine/codecs.js';

export interface RequestsTable {
  id: string;
  common_name: string;
  /** JSON array of strings. */
  dns_names: string;
  /** JSON array of strings. */
  ip_addresses: string;
  csr_pem: string;
  csr_sha256: string;
  key_description: string;
  state: RequestState;
  requester: string;
  client_address: string;
  created_at: Millis;
  updated_at: Millis;
  decided_by: string | null;
  rejection_reason: string | null;
  serial: string | null;
  /** A leaf profile name; null for the default. */
  profile: string | null;
}

export interface CertificatesTable {
  serial: string;
  request_id: string | null;
  common_name: string;
  dns_names: string;
  ip_addresses: string;
  not_before: Millis;
  not_after: Millis;
  certificate_pem: string;
  created_at: Millis;
  revoked_at: ColumnType<number | string | null, number | null, number | null>;
  revocation_reason: string | null;
  /** The serial this certificate renewed; null when it was not issued by a renewal. */
  renewed_from: string | null;
}

export interface CrlsTable {
  crl_number: Millis;
  this_update: Millis;
  next_update: Millis;
  revocation_mark: string;
  der_base64: string;
}

export interface StoreDatabase extends AuthTables, AcmeTables {
  requests: RequestsTable;
  certificates: CertificatesTable;
  crls: CrlsTable;
}

export type RequestRow = Selectable<RequestsTable>;
export type CertificateRow = Selectable<CertificatesTable>;

/** A request as bound into an INSERT: every column, instants as numbers. */
export interface RequestInsertRow {
  id: string;
  common_name: string;
  dns_names: string;
  ip_addresses: string;
  csr_pem: string;
  csr_sha256: string;
  key_description: string;
  state: RequestState;
  requester: string;
  client_address: string;
  created_at: number;
  updated_at: number;
  decided_by: string | null;
  rejection_reason: string | null;
  serial: string | null;
  profile: string | null;
}

export interface CertificateInsertRow {
  serial: string;
  request_id: string | null;
  common_name: string;
  dns_names: string;
  ip_addresses: string;
  not_before: number;
  not_after: number;
  certificate_pem: string;
  created_at: number;
  revoked_at: number | null;
  revocation_reason: string | null;
  renewed_from: string | null;
}

const REQUEST_STATES: ReadonlySet<string> = new Set<RequestState>(['pending', 'issued', 'rejected']);

function decodeState(state: string): RequestState {
  if (!REQUEST_STATES.has(state)) {
    throw new TypeError(`stored request state ${state} is unknown`);
  }
  return state as RequestState;
}

export function requestToRow(request: CertificateRequest): RequestInsertRow {
  return {
    id: request.id,
    common_name: request.commonName,
    dns_names: encodeNames(request.dnsNames),
    ip_addresses: encodeNames(request.ipAddresses),
    csr_pem: request.csrPem,
    csr_sha256: request.csrSha256,
    key_description: request.keyDescription,
    state: request.state,
    requester: request.requester,
    client_address: request.clientAddress,
    created_at: toMillis(request.createdAt),
    updated_at: toMillis(request.updatedAt),
    decided_by: request.decidedBy,
    rejection_reason: request.rejectionReason,
    serial: request.serial,
    profile: request.profile ?? null,
  };
}

export function rowToRequest(row: RequestRow): CertificateRequest {
  return {
    id: row.id,
    commonName: row.common_name,
    dnsNames: decodeNames(row.dns_names),
    ipAddresses: decodeNames(row.ip_addresses),
    csrPem: row.csr_pem,
    csrSha256: row.csr_sha256,
    keyDescription: row.key_description,
    state: decodeState(row.state),
    requester: row.requester,
    clientAddress: row.client_address,
    createdAt: fromMillis(row.created_at),
    updatedAt: fromMillis(row.updated_at),
    decidedBy: row.decided_by,
    rejectionReason: row.rejection_reason,
    serial: row.serial,
    ...(row.profile && isLeafProfileName(row.profile) ? { profile: row.profile } : {}),
  };
}

export function certificateToRow(certificate: IssuedCertificate): CertificateInsertRow {
  return {
    serial: certificate.serial,
    request_id: certificate.requestId,
    common_name: certificate.commonName,
    dns_names: encodeNames(certificate.dnsNames),
    ip_addresses: encodeNames(certificate.ipAddresses),
    not_before: toMillis(certificate.notBefore),
    not_after: toMillis(certificate.notAfter),
    certificate_pem: certificate.certificatePem,
    created_at: toMillis(certificate.createdAt),
    revoked_at: certificate.revokedAt === null ? null : toMillis(certificate.revokedAt),
    revocation_reason: certificate.revocationReason,
    renewed_from: certificate.renewedFrom ?? null,
  };
}

export function rowToCertificate(row: CertificateRow): IssuedCertificate {
  return {
    serial: row.serial,
    requestId: row.request_id,
    commonName: row.common_name,
    dnsNames: decodeNames(row.dns_names),
    ipAddresses: decodeNames(row.ip_addresses),
    notBefore: fromMillis(row.not_before),
    notAfter: fromMillis(row.not_after),
    certificatePem: row.certificate_pem,
    createdAt: fromMillis(row.created_at),
    revokedAt: fromOptionalMillis(row.revoked_at),
    revocationReason: row.revocation_reason,
    ...(row.renewed_from ? { renewedFrom: row.renewed_from } : {}),
  };
}
