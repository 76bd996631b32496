/**
 * The certificate authority as the RA sees it: it signs what it is told to, within its own
 * validity, and knows nothing of HTTP, policy or storage.
 */
import 'reflect-metadata';
import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { derToPem } from '../util/pem.js';
import { type CrlContents, signCrl } from './crl.js';
import type { CryptoService } from './crypto-pool.js';
import {
  CertificateIssuer,
  type LeafProfile,
  type LeafSpec,
  randomSerial,
  type TbsSigner,
} from './issuer.js';
import { type PublicUrls, publicUrlExtensions } from './public-urls.js';

export interface LeafRequest {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  spki: Buffer;
  validityDays: number;
  now: Date;
  profile?: LeafProfile;
  /** Serial to use, for tests; normally drawn at random. */
  serial?: Buffer;
}

export interface SignedLeaf {
  serial: string;
  der: Buffer;
  pem: string;
  notBefore: Date;
  notAfter: Date;
}

/** Clients with a clock a little behind still accept a certificate issued this second. */
const BACKDATE_MS = 60_000;

export class CertificateAuthority {
  readonly certificateDer: Buffer;
  readonly certificatePem: string;
  readonly certificate: X509Certificate;
  /** SHA-256 of the CA certificate, upper-case hex with colons, as openssl prints it. */
  readonly fingerprintSha256: string;
  readonly notAfter: Date;
  private readonly issuer: CertificateIssuer;
  private urlExtensions: readonly Buffer[] = [];
  private tbsSigner: TbsSigner | null = null;

  constructor(certificateDer: Buffer, privateKey: KeyObject) {
    this.certificateDer = certificateDer;
    this.certificatePem = derToPem(certificateDer, 'CERTIFICATE');
    this.certificate = new X509Certificate(certificateDer);
    if (!this.certificate.checkPrivateKey(privateKey)) {
      throw new Error('the CA private key does not belong to the CA certificate');
    }
    this.fingerprintSha256 = fingerprintSha256(certificateDer);
    this.notAfter = new Date(this.certificate.validTo);
    this.issuer = new CertificateIssuer(certificateDer, privateKey);
  }

  /**
   * Signs from now on with `crypto` (crypto threads, crypto-pool.ts); signLeaf then leaves the event loop
   * for the signature. issueLeaf and CRLs stay on the calling thread.
   */
  useCrypto(crypto: CryptoService): void {
    this.tbsSigner = crypto.signer(this.issuer.signingParameters());
  }

  /** issueLeaf, with the signature made where useCrypto said. */
  async signLeaf(req: LeafRequest): Promise<SignedLeaf> {
    if (this.tbsSigner === null) return this.issueLeaf(req);
    const { spec, notBefore, notAfter } = this.leafSpec(req);
    const der = await this.issuer.issueWith(spec, this.tbsSigner);
    return signedLeaf(spec.serial, der, notBefore, notAfter);
  }

  issueLeaf(req: LeafRequest): SignedLeaf {
    const { spec, notBefore, notAfter } = this.leafSpec(req);
    return signedLeaf(spec.serial, this.issuer.issue(spec), notBefore, notAfter);
  }

  private leafSpec(req: LeafRequest): { spec: LeafSpec; notBefore: Date; notAfter: Date } {
    const notBefore = new Date(req.now.getTime() - BACKDATE_MS);
    const wanted = req.now.getTime() + req.validityDays * 86_400_000;
    // A certificate must not outlive its issuer (RFC 5280 §6.1.3 checks every link's validity).
    const notAfter = new Date(Math.min(wanted, this.notAfter.getTime()));
    if (notAfter.getTime() <= req.now.getTime()) {
      throw new Error(
        `the CA certificate expired at ${this.notAfter.toISOString()}; no certificate can be issued`,
      );
    }
    const serial = req.serial ?? randomSerial();
    const spec: LeafSpec = {
      serial,
      commonName: req.commonName,
      dnsNames: req.dnsNames,
      ipAddresses: req.ipAddresses,
      spki: req.spki,
      notBefore,
      notAfter,
      profile: req.profile ?? { serverAuth: true, clientAuth: true },
      extraExtensions: req.profile?.ocspSigning ? [] : this.urlExtensions,
    };
    return { spec, notBefore, notAfter };
  }

  /**
   * Where relying parties find the CRL, OCSP and this certificate; put in every leaf issued from now on
   * (CRL distribution points and authority information access), or nothing when null.
   */
  setPublicUrls(urls: PublicUrls | null): void {
    this.urlExtensions = urls === null ? [] : publicUrlExtensions(urls);
  }

  /** Signs a CRL for this CA (RFC 5280 §5). */
  signCrl(contents: CrlContents): Buffer {
    return signCrl(this.issuer, contents);
  }
}

function signedLeaf(serial: Buffer, der: Buffer, notBefore: Date, notAfter: Date): SignedLeaf {
  return { serial: serial.toString('hex'), der, pem: derToPem(der, 'CERTIFICATE'), notBefore, notAfter };
}

export function fingerprintSha256(der: Buffer): string {
  return createHash('sha256')
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

/** Accepts "AB:CD:..", "abcd..", or "sha256:abcd.." and returns the canonical colon form. */
export function normalizeFingerprint(text: string): string | null {
  const hex = text
    .trim()
    .replace(/^sha-?256[:=]/i, '')
    .replace(/[:\s]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) return null;
  return hex.replace(/(..)(?!$)/g, '$1:');
}
