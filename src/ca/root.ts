/**
 * The root CA certificate. Made once at init, so it uses @peculiar/x509 rather than the fast path.
 */
import 'reflect-metadata';
import { randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { Clock, KeyType } from '../types.js';
import { generateKeyPair, toWebCryptoPair } from '../util/keys.js';

type ProviderCrypto = Parameters<typeof x509.cryptoProvider.set>[0];
type SelfSignedParams = Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[0];
type WebKey = Parameters<typeof x509.SubjectKeyIdentifierExtension.create>[0];

x509.cryptoProvider.set(webcrypto as unknown as ProviderCrypto);

export interface RootCaOptions {
  keyType: KeyType;
  /** A distinguished name such as "CN=certmaster CA, O=Example". */
  subject: string;
  validityDays: number;
  clock: Clock;
}

export interface RootCa {
  certificateDer: Buffer;
  privateKey: import('node:crypto').KeyObject;
}

/** Checks an operator-supplied subject before any key is generated, so a typo costs nothing. */
export function validateSubject(subject: string): string | null {
  try {
    const name = new x509.Name(subject);
    if (!name.getField('CN')[0]) return 'the CA subject needs a CN, e.g. "CN=certmaster CA, O=Example"';
    return null;
  } catch (e) {
    return `the CA subject "${subject}" is not a distinguished name (${(e as Error).message}); use e.g. "CN=certmaster CA, O=Example"`;
  }
}

export async function createRootCa(options: RootCaOptions): Promise<RootCa> {
  const problem = validateSubject(options.subject);
  if (problem) throw new Error(problem);
  const { privateKey } = generateKeyPair(options.keyType);
  const { keys, signingAlgorithm } = await toWebCryptoPair(privateKey, options.keyType);
  const now = options.clock.now();
  // Backdated an hour so that relying parties with a slightly slow clock accept it at once.
  const notBefore = new Date(now.getTime() - 3600_000);
  const notAfter = new Date(now.getTime() + options.validityDays * 86400_000);
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01; // positive and minimal (RFC 5280 §4.1.2.2)
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.toString('hex'),
    name: options.subject,
    notBefore,
    notAfter,
    keys: keys as unknown as SelfSignedParams['keys'],
    signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as unknown as WebKey),
    ],
  });
  return { certificateDer: Buffer.from(cert.rawData), privateKey };
}
