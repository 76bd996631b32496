/**
 * Mutual TLS (RFC 8705 §2): a client certificate issued by this CA, unexpired, unrevoked and with the
 * clientAuth extended key usage authenticates the host whose names it certifies.
 *
 * The TLS layer only asks for a certificate (requestCert without rejectUnauthorized), so whatever the
 * client presents arrives here unjudged: the chain is checked against the CA's certificate here, not
 * taken from the socket's `authorized` flag, and the store is asked about the serial on every request,
 * so a revocation made on any replica is seen at once. Only the signature check is cached: it depends
 * on nothing but the two certificates' bytes.
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { RefusalCause } from '../../contract/refusal-cause.js';
import type { Clock, Principal } from '../../types.js';
import { AuthFailure } from '../failure.js';
import { scopesOfRole } from '../scopes.js';

/** What the store knows of one serial; the auth layer asks nothing else about certificates. */
export interface IssuedCertificateStatus {
  /** SHA-256 of the certificate's DER, lower-case hex: the presented one must be the one on record. */
  sha256: string;
  commonName: string;
  /** Every name the certificate certifies (dNSName and iPAddress entries). */
  names: string[];
  revokedAt: Date | null;
  /** RFC 5280 §5.3.1 reason name. */
  revocationReason: string | null;
}

/** "Is serial S valid, when was it revoked, why": null when this CA has no certificate with that serial. */
export interface CertificateStatusPort {
  statusOf(serial: string): Promise<IssuedCertificateStatus | null>;
}

export interface ClientCertificateDeps {
  /** The CA certificate, DER: the only issuer whose certificates are accepted. */
  caCertificateDer: Buffer;
  status: CertificateStatusPort;
  clock: Clock;
  /** ra.renew_after_expiry in ms (0: none), so an expired certificate's hint says whether it may still renew. */
  renewalGraceMs?: () => number;
}

/** id-kp-clientAuth (RFC 5280 §4.2.1.12). */
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
/** Signature checks remembered (by certificate hash); bounded because any caller can present certificates. */
const MAX_CACHED_SIGNATURES = 1024;

const REENROLL_HINT =
  'enroll again for a new certificate (`certmaster request --server URL --cn NAME` with an account or enrollment token, or EST simpleenroll), then present the new one';

export class ClientCertificateVerifier {
  private readonly ca: X509Certificate;
  /** sha256 of a presented DER -> whether the CA signed it. */
  private readonly signatureChecks = new Map<string, boolean>();

  constructor(private readonly deps: ClientCertificateDeps) {
    this.ca = new X509Certificate(deps.caCertificateDer);
  }

  /** The principal a presented certificate proves, or an AuthFailure client_certificate_invalid saying why. */
  async verify(der: Buffer, options: { acceptExpired?: boolean } = {}): Promise<Principal> {
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch {
      throw invalid(
        'the client certificate does not parse as X.509',
        'present a PEM or DER certificate this CA issued (curl --cert cert.pem --key key.pem)',
        { code: 'client_certificate_rejected', problem: 'unparsable', serial: null },
      );
    }
    const serial = cert.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '');
    const sha256 = createHash('sha256').update(der).digest('hex');
    const claimed = commonNameOf(cert);
    if (!this.signedByCa(cert, sha256)) {
      throw invalid(
        `the client certificate (issuer "${oneLine(cert.issuer)}") was not issued by this CA`,
        'present a certificate issued by this server; its CA certificate is at /ca.pem',
        {
          code: 'client_certificate_rejected',
          problem: 'foreign_issuer',
          serial,
          issuer: oneLine(cert.issuer),
        },
        claimed,
      );
    }
    const now = this.deps.clock.now();
    const notBefore = new Date(cert.validFrom);
    const notAfter = new Date(cert.validTo);
    if (now < notBefore) {
      throw invalid(
        `the client certificate is not yet valid: it is valid from ${notBefore.toISOString()}`,
        "check this host's clock (and the server's); the certificate becomes usable at its notBefore time",
        {
          code: 'client_certificate_rejected',
          problem: 'not_yet_valid',
          serial,
          at: notBefore.toISOString(),
        },
        claimed,
      );
    }
    // Past notAfter, the certificate still identifies its host where the caller allows it (renewal
    // after expiry, which the renewal policy grants or refuses); everything else is still checked.
    if (now > notAfter && options.acceptExpired !== true) {
      throw invalid(
        `the client certificate expired at ${notAfter.toISOString()}`,
        this.expiredHint(notAfter, now),
        { code: 'client_certificate_rejected', problem: 'expired', serial, at: notAfter.toISOString() },
        claimed,
      );
    }
    if (cert.ca) {
      throw invalid(
        'the client certificate is a CA certificate',
        'present a host certificate, not the CA certificate',
        { code: 'client_certificate_rejected', problem: 'ca_certificate', serial },
        claimed,
      );
    }
    // Node's keyUsage is the extended key usage list (undefined when the extension is absent).
    if (!(cert.keyUsage ?? []).includes(CLIENT_AUTH)) {
      throw invalid(
        'the client certificate lacks the clientAuth extended key usage',
        'present a certificate issued for client authentication (certmaster issues host certificates with clientAuth), or enroll again',
        { code: 'client_certificate_rejected', problem: 'no_client_auth', serial },
        claimed,
      );
    }
    const status = await this.deps.status.statusOf(serial);
    if (!status || status.sha256 !== sha256) {
      throw invalid(
        'the client certificate was not issued by this CA',
        'present a certificate issued by this server; its CA certificate is at /ca.pem',
        {
          code: 'client_certificate_rejected',
          problem: status ? 'differs_from_record' : 'not_on_record',
          serial,
        },
        claimed,
      );
    }
    if (status.revokedAt) {
      const reason = status.revocationReason ?? 'unspecified';
      throw invalid(
        `the client certificate was revoked at ${status.revokedAt.toISOString()} for reason ${reason}`,
        REENROLL_HINT,
        {
          code: 'client_certificate_rejected',
          problem: 'revoked',
          serial,
          at: status.revokedAt.toISOString(),
          revocationReason: reason,
        },
        claimed,
      );
    }
    return {
      name: status.commonName,
      anonymous: false,
      roles: ['host'],
      scopes: scopesOfRole('host'),
      method: 'client_certificate',
      // The host may obtain certificates for exactly the names it already holds, nothing more.
      namePatterns: status.names.length > 0 ? status.names : [status.commonName],
      certificate: { serial, notAfter },
    };
  }

  /** How to recover from expiry: renew while the grace period of ra.renew_after_expiry lasts, else enroll again. */
  private expiredHint(notAfter: Date, now: Date): string {
    const grace = this.deps.renewalGraceMs?.() ?? 0;
    const until = new Date(notAfter.getTime() + grace);
    if (grace > 0 && now <= until) {
      return `this server still renews it until ${until.toISOString()} (ra.renew_after_expiry): \`certmaster renew --force --cert cert.pem --key key.pem --server URL\`; after that, ${REENROLL_HINT}`;
    }
    return `${REENROLL_HINT}; renewal after expiry is not allowed here${grace > 0 ? ` beyond ${until.toISOString()}` : ' (ra.renew_after_expiry = none)'}`;
  }

  private signedByCa(cert: X509Certificate, sha256: string): boolean {
    const known = this.signatureChecks.get(sha256);
    if (known !== undefined) return known;
    let ok = false;
    try {
      ok = cert.checkIssued(this.ca) && cert.verify(this.ca.publicKey);
    } catch {
      ok = false;
    }
    if (this.signatureChecks.size >= MAX_CACHED_SIGNATURES) {
      const oldest = this.signatureChecks.keys().next().value;
      if (oldest !== undefined) this.signatureChecks.delete(oldest);
    }
    this.signatureChecks.set(sha256, ok);
    return ok;
  }
}

function invalid(detail: string, hint: string, cause: RefusalCause, claimedName?: string): AuthFailure {
  return new AuthFailure(
    'client_certificate_invalid',
    detail,
    hint,
    cause,
    claimedName ? { claimedName } : {},
  );
}

/** The subject's common name, which is who the certificate claims to be (for the audit log). */
function commonNameOf(cert: X509Certificate): string | undefined {
  return /^CN=(.*)$/m.exec(cert.subject)?.[1]?.slice(0, 200);
}

/** A distinguished name as one line (Node separates its attributes with newlines), bounded. */
function oneLine(name: string): string {
  return name.replace(/\n/g, ', ').slice(0, 200);
}
