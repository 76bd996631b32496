/**
 * CRL and OCSP for one opened data directory: the delegated OCSP responder's key and certificate in the
 * CA directory (issued by the CA on first use and re-issued before they expire), the CRL publisher and
 * the OCSP responder over the store, and the URLs put in issued certificates.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { CertificateAuthority } from '../ca/authority.js';
import { CrlPublisher } from '../ca/crl-publisher.js';
import { OcspSigner, type OcspStatus } from '../ca/ocsp.js';
import { OcspResponder } from '../ca/ocsp-responder.js';
import { type PublicUrls, publicUrlsUnder } from '../ca/public-urls.js';
import { type Config, parseListenAddress } from '../config/schema.js';
import type { CertmasterStore } from '../store/open.js';
import type { Clock } from '../types.js';
import { writeFileDurable } from '../util/durable-files.js';
import { generateKeyPair, privateKeyFromPem, privateKeyToPem } from '../util/keys.js';
import { pemBlocks } from '../util/pem.js';
import type { DataLayout } from './layout.js';

/** The responder certificate lives 30 days and is replaced when 10 remain, so a stuck rotation is noticed. */
const OCSP_SIGNER_DAYS = 30;
const OCSP_SIGNER_RENEW_BEFORE_MS = 10 * 86_400_000;

/** Where certificates say relying parties fetch the CRL, OCSP and the CA certificate; null when unset. */
export function publicUrlsFrom(config: Config): PublicUrls | null {
  if (config.ca.public_url === '') return null;
  if (config.server.public_http_listen === '') return publicUrlsUnder(config.ca.public_url);
  const { port } = parseListenAddress(config.server.public_http_listen);
  const url = new URL(config.ca.public_url);
  return publicUrlsUnder(`http://${url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname}:${port}`);
}

/** Loads the responder from disk, or has the CA issue a new one when it is missing or nearly expired. */
export class OcspSignerKeeper {
  #signer: OcspSigner | null = null;

  constructor(
    private readonly layout: DataLayout,
    private readonly ca: CertificateAuthority,
    private readonly clock: Clock,
  ) {}

  current(): OcspSigner {
    const now = this.clock.now().getTime();
    if (this.#signer && this.#signer.notAfter.getTime() - now > OCSP_SIGNER_RENEW_BEFORE_MS)
      return this.#signer;
    const onDisk = this.#load();
    this.#signer =
      onDisk && onDisk.notAfter.getTime() - now > OCSP_SIGNER_RENEW_BEFORE_MS ? onDisk : this.#issue();
    return this.#signer;
  }

  #load(): OcspSigner | null {
    if (!existsSync(this.layout.ocspCertificate) || !existsSync(this.layout.ocspKey)) return null;
    try {
      const der = pemBlocks(readFileSync(this.layout.ocspCertificate, 'utf8'), 'CERTIFICATE')[0];
      if (!der) return null;
      const key = privateKeyFromPem(readFileSync(this.layout.ocspKey, 'utf8'));
      return new OcspSigner(key, der, this.ca.certificateDer);
    } catch {
      // A damaged or foreign pair is replaced, not trusted.
      return null;
    }
  }

  #issue(): OcspSigner {
    const { privateKey, publicKey } = generateKeyPair('ec-p256');
    const leaf = this.ca.issueLeaf({
      commonName: 'certmaster OCSP responder',
      dnsNames: [],
      ipAddresses: [],
      spki: publicKey.export({ format: 'der', type: 'spki' }),
      validityDays: OCSP_SIGNER_DAYS,
      now: this.clock.now(),
      profile: { serverAuth: false, clientAuth: false, ocspSigning: true },
    });
    // Key first: a certificate on disk always has its key beside it.
    writeFileDurable(this.layout.ocspKey, privateKeyToPem(privateKey), 0o600);
    writeFileDurable(this.layout.ocspCertificate, leaf.pem, 0o644);
    return new OcspSigner(privateKey, leaf.der, this.ca.certificateDer);
  }
}

export interface RevocationServices {
  crl: CrlPublisher;
  ocsp: OcspResponder;
  ocspSigner: OcspSignerKeeper;
}

export function createRevocationServices(parts: {
  layout: DataLayout;
  ca: CertificateAuthority;
  store: CertmasterStore;
  clock: Clock;
  config: () => Config;
  /** False only for the benchmark's uncached baseline. */
  cacheOcsp?: boolean;
}): RevocationServices {
  const { store, clock, config } = parts;
  const ocspSigner = new OcspSignerKeeper(parts.layout, parts.ca, clock);
  const crl = new CrlPublisher({
    store,
    ca: parts.ca,
    clock,
    validityMs: () => config().ca.crl_next_update_hours * 3_600_000,
  });
  const ocsp = new OcspResponder({
    lookup: async (serial): Promise<OcspStatus> => {
      const certificate = await store.getCertificate(serial);
      if (certificate === null) return { kind: 'unknown' };
      return certificate.revokedAt === null
        ? { kind: 'good' }
        : { kind: 'revoked', revokedAt: certificate.revokedAt, reason: certificate.revocationReason };
    },
    signer: () => ocspSigner.current(),
    clock,
    validityMs: () => config().ca.ocsp_next_update_minutes * 60_000,
    ...(parts.cacheOcsp === false ? { cache: false } : {}),
  });
  return { crl, ocsp, ocspSigner };
}
