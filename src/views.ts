/**
 * The JSON shapes of requests and certificates, shared by the API and the CLI's --json output so
 * that a script reads the same fields locally and remotely.
 */
import type { CertificateRequest, IssuedCertificate } from './types.js';

export function requestJson(r: CertificateRequest) {
  return {
    id: r.id,
    state: r.state,
    common_name: r.commonName,
    dns_names: r.dnsNames,
    ip_addresses: r.ipAddresses,
    key: r.keyDescription,
    requester: r.requester,
    client_address: r.clientAddress,
    created_at: r.createdAt.toISOString(),
    decided_by: r.decidedBy,
    rejection_reason: r.rejectionReason,
    serial: r.serial,
  };
}

export function certificateJson(c: IssuedCertificate) {
  return {
    serial: c.serial,
    common_name: c.commonName,
    dns_names: c.dnsNames,
    ip_addresses: c.ipAddresses,
    not_before: c.notBefore.toISOString(),
    not_after: c.notAfter.toISOString(),
    revoked_at: c.revokedAt?.toISOString() ?? null,
    revocation_reason: c.revocationReason,
    request_id: c.requestId,
    /** Lineage: the serial this certificate renewed, null when it was not issued by a renewal. */
    renewed_from: c.renewedFrom ?? null,
  };
}
