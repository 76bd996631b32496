/**
 * Domain types shared by the layers. Nothing here knows about HTTP or SQL.
 */
import type { LeafProfileName } from './domain/leaf-profiles.js';
import type { Role } from './domain/roles.js';

export { KEY_TYPES, type KeyType } from './util/keys.js';

export type RequestState = 'pending' | 'issued' | 'rejected';

/** What the fast CSR reader found in a PKCS#10 request whose signature it verified (RFC 2986). */
export interface ParsedCsr {
  /** The whole CertificationRequest, DER. */
  der: Buffer;
  /** Lower-case hex SHA-256 of `der`: the identity used for idempotent resubmission. */
  sha256: string;
  /** The subject's commonName, if any (exactly one is allowed). */
  commonName: string | null;
  /** dNSName entries of a requested subjectAltName extension, as sent (not yet validated). */
  dnsNames: string[];
  /** iPAddress entries of a requested subjectAltName extension, canonical text (RFC 5952 for IPv6). */
  ipAddresses: string[];
  /** Other SAN kinds the CSR asked for (e.g. "rfc822Name", "uniformResourceIdentifier"): policy refuses them. */
  otherNameKinds: string[];
  /** The challengePassword attribute (PKCS#9), if present. */
  challengePassword: string | null;
  /** SubjectPublicKeyInfo, DER, copied verbatim into the certificate. */
  spki: Buffer;
  /** Key algorithm and size as policy needs them. */
  key: PublicKeyDescription;
}

export type PublicKeyDescription =
  | { kind: 'rsa'; bits: number; exponent: bigint }
  /** `namedCurve` false: the key spells out its curve's parameters, which RFC 5480 §2.1.1 forbids. */
  | { kind: 'ec'; curve: string; namedCurve: boolean }
  | { kind: 'ed25519' }
  | { kind: 'ed448' };

export interface CertificateRequest {
  id: string;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  csrPem: string;
  csrSha256: string;
  /** e.g. "EC P-256", "RSA 2048". */
  keyDescription: string;
  state: RequestState;
  /** Who submitted it: "anonymous" until the auth layer says otherwise. */
  requester: string;
  clientAddress: string;
  createdAt: Date;
  updatedAt: Date;
  /** Who approved or rejected it ("autosign" for the policy). */
  decidedBy: string | null;
  rejectionReason: string | null;
  /** Serial of the certificate issued for it. */
  serial: string | null;
  /** The leaf profile asked for (an EST label's); absent means the default, tls. */
  profile?: LeafProfileName;
}

export interface IssuedCertificate {
  /** Lower-case hex, no separators, no leading zero octet. */
  serial: string;
  requestId: string | null;
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  notBefore: Date;
  notAfter: Date;
  certificatePem: string;
  createdAt: Date;
  revokedAt: Date | null;
  /** RFC 5280 §5.3.1 reason name, e.g. "keyCompromise". */
  revocationReason: string | null;
  /** The serial of the certificate this one renewed (its lineage), when it was issued by a renewal. */
  renewedFrom?: string;
}

/** A clock, injected so expiry logic is tested by moving time, never by sleeping. */
export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

/** Roles of accounts (src/domain/roles.ts, where the domain's records can import them). */
export { ROLES, type Role } from './domain/roles.js';

/** How a principal proved who it is. */
export type AuthMethod =
  | 'anonymous'
  | 'basic'
  | 'digest'
  | 'access_token'
  | 'api_token'
  | 'enrollment_token'
  | 'client_certificate'
  | 'acme_account';

/**
 * Who is calling. The auth layer (an onRequest hook) sets it; until a scheme proves otherwise a
 * caller is anonymous, which is enough to submit a CSR when `ra.anonymous_requests` is true.
 */
export interface Principal {
  /** Account name, OAuth client id, or "enrollment:<token id>"; "anonymous" when nobody. */
  name: string;
  anonymous: boolean;
  roles: Role[];
  scopes: string[];
  method: AuthMethod;
  /** The token that authenticated the request, by id only (never the secret). */
  token?: {
    id: string;
    issuedAt: Date;
    expiresAt: Date | null;
    /** The sign-in (OAuth refresh family) an access token belongs to, when it has one. */
    familyId?: string;
  };
  /**
   * Names this principal may obtain certificates for without an operator (host accounts and
   * enrollment tokens): patterns as in ra.autosign. Absent means no names of its own.
   */
  namePatterns?: string[];
  /** The client certificate that authenticated the request (mutual TLS), by serial. */
  certificate?: { serial: string; notAfter: Date };
}
export const ANONYMOUS: Principal = Object.freeze({
  name: 'anonymous',
  anonymous: true,
  roles: [],
  scopes: [],
  method: 'anonymous',
}) as Principal;
