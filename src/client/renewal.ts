/**
 * One renewal, as `certmaster renew` and `certmaster agent` do it: read the certificate and key from
 * disk, make a new key of the same type and a CSR for the same names, present the old certificate
 * over mutual TLS to POST /v1/renewals, check what comes back, and replace the files so that a crash
 * at any point leaves a certificate with its matching key.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, renameSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileDurable } from '../util/durable-files.js';
import { syncDirectory } from '../util/key-file.js';
import { generateKeyPair, keyTypeOf, privateKeyToPem } from '../util/keys.js';
import { makeCsr } from './csr.js';
import { Transport } from './transport.js';

/** A problem on this host (files, keys, what the server sent back), with what to do about it. */
export class RenewalError extends Error {
  override name = 'RenewalError';
}

export interface HeldCertificate {
  cert: X509Certificate;
  certPem: string;
  key: KeyObject;
  keyPem: string;
  commonName: string;
  /** dNSName and iPAddress entries of the subjectAltName. */
  altNames: string[];
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

export interface RenewalFiles {
  certFile: string;
  keyFile: string;
  /** Where the new files go; by default the old ones are replaced in place. */
  outDir?: string;
}

/** The new key waits here until the new certificate is in place, so a crash never strands a mismatch. */
function pendingKeyPath(keyFile: string): string {
  return `${keyFile}.next`;
}

/**
 * Finishes a replacement a crash interrupted: the certificate was written but the key not yet
 * renamed. A leftover next key that does not match the certificate is an unfinished attempt, removed.
 */
export function finishInterruptedReplace(certFile: string, keyFile: string): void {
  const next = pendingKeyPath(keyFile);
  if (!existsSync(next) || !existsSync(certFile)) return;
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    if (cert.checkPrivateKey(createPrivateKey(readFileSync(next, 'utf8')))) {
      renameSync(next, keyFile);
      syncDirectory(dirname(keyFile));
      return;
    }
  } catch {
    // An unreadable leftover is no key of ours.
  }
  unlinkSync(next);
}

/** Reads and checks the pair on disk: a certificate, and the private key that matches it. */
export function readHeld(certFile: string, keyFile: string): HeldCertificate {
  finishInterruptedReplace(certFile, keyFile);
  let certPem: string;
  let keyPem: string;
  try {
    certPem = readFileSync(certFile, 'utf8');
  } catch (e) {
    throw new RenewalError(`cannot read the certificate ${certFile}: ${(e as Error).message}`);
  }
  try {
    keyPem = readFileSync(keyFile, 'utf8');
  } catch (e) {
    throw new RenewalError(`cannot read the key ${keyFile}: ${(e as Error).message}`);
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new RenewalError(`${certFile} holds no PEM certificate`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new RenewalError(`${keyFile} holds no unencrypted PEM private key`);
  }
  if (!cert.checkPrivateKey(key)) {
    throw new RenewalError(
      `${keyFile} is not the key of ${certFile}; give the key the certificate was issued for`,
    );
  }
  return {
    cert,
    certPem,
    key,
    keyPem,
    commonName: /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '',
    altNames: altNamesOf(cert),
    serial: cert.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ''),
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
  };
}

/** Node renders subjectAltName as "DNS:a, IP Address:1.2.3.4". */
function altNamesOf(cert: X509Certificate): string[] {
  const text = cert.subjectAltName ?? '';
  const names: string[] = [];
  for (const part of text.split(/,\s*/)) {
    const m = /^(DNS|IP Address):(.+)$/.exec(part.trim());
    if (m?.[2]) names.push(m[2].toLowerCase());
  }
  return names;
}

/** When renewal opens under `window` (the server's ra.renew_window; 0 = at any time). */
export function opensAt(held: { notBefore: Date; notAfter: Date }, window: number): Date {
  const from = held.notBefore.getTime();
  return new Date(from + Math.floor((held.notAfter.getTime() - from) * window));
}

export interface Renewed {
  serial: string;
  renewedFrom: string;
  notAfter: Date;
  certFile: string;
  keyFile: string;
  chainFile: string | null;
}

interface RenewalAnswer {
  state?: string;
  id?: string;
  serial?: string;
  certificate?: string;
  chain?: string;
  retry_after?: number;
}

/**
 * Renews HELD at SERVER (trusting only CA), writes the new files and returns where they are.
 * Throws ServerRefusal when the server says no, TransportError when it cannot be reached.
 */
export async function renewOnce(
  held: HeldCertificate,
  files: RenewalFiles,
  server: string,
  caPem: string,
): Promise<Renewed> {
  const keyType = keyTypeOf(held.key);
  const { privateKey } = generateKeyPair(keyType);
  // Exactly the names of the certificate: a renewal may not add any (renewal_names_changed).
  const csr = await makeCsr(privateKey, keyType, held.commonName, held.altNames);
  const transport = new Transport(server, {
    ca: caPem,
    clientCertificate: { cert: held.certPem, key: held.keyPem },
  });
  let answer: { status: number; data: RenewalAnswer };
  try {
    answer = await transport.json<RenewalAnswer>('POST', '/v1/renewals', { csr });
  } finally {
    transport.close();
  }
  if (answer.status === 202 || answer.data.state === 'pending') {
    throw new RenewalError(
      `the server left the renewal for an operator (request ${answer.data.id ?? '?'}: a reserved name or a site trigger); ask the operator to sign it with \`certmaster ca sign ${held.commonName}\``,
    );
  }
  const pem = answer.data.certificate;
  if (!pem) throw new RenewalError('the server answered without a certificate');
  const fresh = checkIssued(pem, privateKey, caPem, held);
  const keyPem = privateKeyToPem(privateKey);
  const chain = answer.data.chain ?? pem + caPem;
  return writeRenewed(files, pem, keyPem, chain, fresh, held.serial);
}

/** The new certificate must parse, be signed by the CA we trust, be for our new key and our names. */
function checkIssued(pem: string, key: KeyObject, caPem: string, held: HeldCertificate): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new RenewalError('the server sent a certificate that does not parse; nothing was replaced');
  }
  const ca = new X509Certificate(caPem);
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) {
    throw new RenewalError('the new certificate was not signed by the trusted CA; nothing was replaced');
  }
  if (!cert.checkPrivateKey(key)) {
    throw new RenewalError('the new certificate is not for the new key; nothing was replaced');
  }
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? '';
  if (cn !== held.commonName) {
    throw new RenewalError(`the new certificate is for ${cn}, not ${held.commonName}; nothing was replaced`);
  }
  return cert;
}

function writeRenewed(
  files: RenewalFiles,
  certPem: string,
  keyPem: string,
  chainPem: string,
  cert: X509Certificate,
  renewedFrom: string,
): Renewed {
  const certFile = files.outDir ? join(files.outDir, 'cert.pem') : files.certFile;
  const keyFile = files.outDir ? join(files.outDir, 'key.pem') : files.keyFile;
  const chainFile = files.outDir ? join(files.outDir, 'chain.pem') : null;
  // Key first under a side name, then the certificate, then the key into place: whenever we stop,
  // key.pem matches cert.pem or the next run finishes the swap (finishInterruptedReplace).
  writeFileDurable(pendingKeyPath(keyFile), keyPem, 0o600);
  writeFileDurable(certFile, certPem, 0o644);
  renameSync(pendingKeyPath(keyFile), keyFile);
  syncDirectory(dirname(keyFile));
  if (chainFile) writeFileDurable(chainFile, chainPem, 0o644);
  return {
    serial: cert.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, ''),
    renewedFrom,
    notAfter: new Date(cert.validTo),
    certFile,
    keyFile,
    chainFile,
  };
}
