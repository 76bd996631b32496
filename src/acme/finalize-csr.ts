/**
 * The CSR of a finalize request (RFC 8555 §7.4): the DNS names it asks for, which must be exactly
 * the order's identifiers, and its PEM form for the RA.
 */
import { CsrError, parseCsr } from '../ca/csr.js';
import { AcmeProblem } from './problem.js';

/** The lower-cased, de-duplicated names of the CSR (CN and DNS SANs); badCSR when it names more. */
export function csrNames(der: Buffer): string[] {
  try {
    const csr = parseCsr(der);
    if (csr.ipAddresses.length > 0 || csr.otherNameKinds.length > 0)
      throw new CsrError('subjectAltName', 'only DNS names can be ordered');
    return [
      ...new Set([...(csr.commonName ? [csr.commonName] : []), ...csr.dnsNames].map((n) => n.toLowerCase())),
    ];
  } catch (e) {
    if (e instanceof CsrError)
      throw new AcmeProblem('badCSR', 'csr_invalid', e.message, 'make a new CSR for the order’s names');
    throw e;
  }
}

export function derToCsrPem(der: Buffer): string {
  return `-----BEGIN CERTIFICATE REQUEST-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trim()}\n-----END CERTIFICATE REQUEST-----\n`;
}
