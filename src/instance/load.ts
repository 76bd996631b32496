/** Loading what init wrote, with errors that say which file is wrong and what to do. */
import { type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CertificateAuthority, fingerprintSha256 } from '../ca/authority.js';
import { KeyPassphraseError, openPrivateKeyPem } from '../ca/key-encryption.js';
import { pemBlocks } from '../util/pem.js';
import { CA_PASSPHRASE_WAYS } from './ca-passphrase.js';
import type { DataLayout } from './layout.js';

export class DataDirError extends Error {}

function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataDirError(
      code === 'ENOENT'
        ? `${what} ${path} is missing: is this a certmaster data directory? (create one with \`certmaster init --data DIR\`)`
        : `cannot read ${what} ${path}: ${(e as Error).message}`,
    );
  }
}

/** The CA, its key opened with `passphrase` when it is encrypted (src/instance/ca-passphrase.ts). */
export function loadCertificateAuthority(layout: DataLayout, passphrase?: string): CertificateAuthority {
  const der = pemBlocks(readText(layout.caCertificate, 'the CA certificate'), 'CERTIFICATE')[0];
  if (!der) throw new DataDirError(`${layout.caCertificate} holds no PEM certificate`);
  const pem = readText(layout.caKey, 'the CA private key');
  let key: KeyObject;
  try {
    key = openPrivateKeyPem(pem, passphrase);
  } catch (e) {
    if (e instanceof KeyPassphraseError) {
      throw new DataDirError(
        passphrase === undefined
          ? `the CA key ${layout.caKey} is encrypted; ${CA_PASSPHRASE_WAYS}`
          : `the passphrase given does not open the CA key ${layout.caKey}; check it (${CA_PASSPHRASE_WAYS})`,
      );
    }
    throw new DataDirError(`${layout.caKey} is not a readable private key`);
  }
  return new CertificateAuthority(der, key);
}

/** The CA certificate's SHA-256 fingerprint, without opening the key. */
export function caFingerprint(layout: DataLayout): string {
  const der = pemBlocks(readText(layout.caCertificate, 'the CA certificate'), 'CERTIFICATE')[0];
  if (!der) throw new DataDirError(`${layout.caCertificate} holds no PEM certificate`);
  return fingerprintSha256(der);
}

export function loadServerTls(layout: DataLayout): { key: string; cert: string } {
  return {
    key: readText(layout.serverKey, 'the server private key'),
    cert: readText(layout.serverCertificate, 'the server certificate'),
  };
}

/**
 * The DNS names and IP addresses in the server's own certificate, which no request is signed for
 * without an operator. An absent or unreadable certificate names none (serve fails on it anyway).
 */
export function loadServerNames(layout: DataLayout): string[] {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(readFileSync(layout.serverCertificate));
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const entry of (certificate.subjectAltName ?? '').split(', ')) {
    if (entry.startsWith('DNS:')) names.push(entry.slice(4));
    else if (entry.startsWith('IP Address:')) names.push(entry.slice(11));
  }
  return names;
}

/**
 * Ask every client for a certificate issued by this CA (the CA is the acceptable-issuers list sent in
 * the CertificateRequest, RFC 8446 §4.3.2) without requiring one: most callers use passwords or
 * tokens. Whatever is presented is judged by the auth layer, not by the TLS handshake.
 */
export function mutualTls(caPem: string): { ca: string; requestCert: true; rejectUnauthorized: false } {
  return { ca: caPem, requestCert: true, rejectUnauthorized: false };
}
