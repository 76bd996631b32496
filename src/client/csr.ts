/** Key and CSR generation on the client: the private key never leaves the host. */
import 'reflect-metadata';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { generateKeyPair, type KeyType, privateKeyToPem, toWebCryptoPair } from '../util/keys.js';

type CsrParams = Parameters<typeof x509.Pkcs10CertificateRequestGenerator.create>[0];

export async function makeKeyAndCsr(
  keyType: KeyType,
  commonName: string,
  altNames: string[],
): Promise<{ keyPem: string; csrPem: string }> {
  const { privateKey } = generateKeyPair(keyType);
  return {
    keyPem: privateKeyToPem(privateKey),
    csrPem: await makeCsr(privateKey, keyType, commonName, altNames),
  };
}

export async function makeCsr(
  privateKey: import('node:crypto').KeyObject,
  keyType: KeyType,
  commonName: string,
  altNames: string[],
): Promise<string> {
  const { keys, signingAlgorithm } = await toWebCryptoPair(privateKey, keyType);
  const entries = altNames.map((n) =>
    isIP(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n },
  );
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [commonName] }],
    keys: keys as unknown as CsrParams['keys'],
    signingAlgorithm,
    extensions: entries.length > 0 ? [new x509.SubjectAlternativeNameExtension(entries)] : [],
  });
  return csr.toString('pem');
}
