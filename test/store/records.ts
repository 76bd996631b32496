/**
 * Builders for the domain records the store keeps. Every call yields fresh ids, names, CSR digests and
 * serials, so tests never collide with each other's data.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { CertificateRequest, Clock, IssuedCertificate } from '../../src/types.js';

/** The instant tests treat as "now". */
export const NOW = new Date('2030-06-01T12:00:00.000Z');

export const fixedClock: Clock = { now: () => NOW };

const DAY_MS = 86_400_000;

export function minutesAfter(at: Date, minutes: number): Date {
  return new Date(at.getTime() + minutes * 60_000);
}

export function uniqueHostName(): string {
  return `host-${randomBytes(6).toString('hex')}.fleet.example.com`;
}

/** 16 random octets, lower-case hex, first octet non-zero as a positive DER INTEGER would be. */
export function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) | 0x10;
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

export function pendingRequest(overrides: Partial<CertificateRequest> = {}): CertificateRequest {
  const commonName = overrides.commonName ?? uniqueHostName();
  return {
    id: randomUUID(),
    commonName,
    dnsNames: [commonName, `alt.${commonName}`],
    ipAddresses: ['192.0.2.10', '2001:db8::1'],
    csrPem: `-----BEGIN CERTIFICATE REQUEST-----\n${randomBytes(48).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`,
    csrSha256: randomBytes(32).toString('hex'),
    keyDescription: 'EC P-256',
    state: 'pending',
    requester: 'anonymous',
    clientAddress: '198.51.100.7',
    createdAt: NOW,
    updatedAt: NOW,
    decidedBy: null,
    rejectionReason: null,
    serial: null,
    ...overrides,
  };
}

export function certificateFor(
  request: CertificateRequest,
  overrides: Partial<IssuedCertificate> = {},
): IssuedCertificate {
  return {
    serial: randomSerial(),
    requestId: request.id,
    commonName: request.commonName,
    dnsNames: request.dnsNames,
    ipAddresses: request.ipAddresses,
    notBefore: new Date(NOW.getTime() - 3_600_000),
    notAfter: new Date(NOW.getTime() + 90 * DAY_MS),
    certificatePem: `-----BEGIN CERTIFICATE-----\n${randomBytes(600).toString('base64')}\n-----END CERTIFICATE-----\n`,
    createdAt: request.createdAt,
    revokedAt: null,
    revocationReason: null,
    ...overrides,
  };
}

/** A request as autosign stores it, with the certificate issued for it. */
export function autosigned(
  overrides: Partial<CertificateRequest> = {},
  certificateOverrides: Partial<IssuedCertificate> = {},
): { request: CertificateRequest; certificate: IssuedCertificate } {
  const pending = pendingRequest(overrides);
  const certificate = certificateFor(pending, certificateOverrides);
  return {
    request: { ...pending, state: 'issued', serial: certificate.serial, decidedBy: 'autosign' },
    certificate,
  };
}
