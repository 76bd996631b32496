/**
 * The auth layer's question about client certificates ("is serial S valid, when revoked, why"),
 * answered from the store on every call: no cache, so a revocation on any replica counts at once.
 */
import { createHash } from 'node:crypto';
import type { CertificateStatusPort } from '../auth/schemes/client-certificate.js';
import type { Store } from '../store/certificates/store.js';
import { pemBlocks } from '../util/pem.js';

export function storeCertificateStatus(store: Pick<Store, 'getCertificate'>): CertificateStatusPort {
  return {
    async statusOf(serial) {
      const cert = await store.getCertificate(serial);
      const der = cert ? pemBlocks(cert.certificatePem, 'CERTIFICATE')[0] : undefined;
      if (!cert || !der) return null;
      return {
        sha256: createHash('sha256').update(der).digest('hex'),
        commonName: cert.commonName,
        names: [...cert.dnsNames, ...cert.ipAddresses],
        revokedAt: cert.revokedAt,
        revocationReason: cert.revocationReason,
      };
    },
  };
}
