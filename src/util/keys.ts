/**
 * Key generation and the WebCrypto views of keys that @peculiar/x509 needs (off the hot path only).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  webcrypto,
} from 'node:crypto';

/** The key types certmaster generates (for the CA, and for clients through the SDK). */
export const KEY_TYPES = ['ec-p256', 'ec-p384', 'ed25519', 'rsa-2048', 'rsa-4096'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export function generateKeyPair(type: KeyType): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (type) {
    case 'ec-p256':
      return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ec-p384':
      return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ed25519':
      return generateKeyPairSync('ed25519');
    case 'rsa-2048':
      return generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 0x10001 });
    case 'rsa-4096':
      return generateKeyPairSync('rsa', { modulusLength: 4096, publicExponent: 0x10001 });
  }
}

/** The key type of an existing private key, so a loaded CA knows how it signs. */
export function keyTypeOf(key: KeyObject): KeyType {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'ec':
      if (details.namedCurve === 'prime256v1') return 'ec-p256';
      if (details.namedCurve === 'secp384r1') return 'ec-p384';
      break;
    case 'ed25519':
      return 'ed25519';
    case 'rsa':
      return (details.modulusLength ?? 0) >= 4096 ? 'rsa-4096' : 'rsa-2048';
  }
  throw new Error(
    `unsupported CA key: ${key.asymmetricKeyType ?? 'unknown'} ${details.namedCurve ?? ''}`.trim(),
  );
}

/** WebCrypto algorithm parameters for importing and signing with a key of this type. */
function webAlgorithm(type: KeyType): {
  import: EcKeyImportParams | RsaHashedImportParams | Algorithm;
  sign: Algorithm | EcdsaParams;
} {
  switch (type) {
    case 'ec-p256':
      return {
        import: { name: 'ECDSA', namedCurve: 'P-256' },
        sign: { name: 'ECDSA', hash: 'SHA-256' } as EcdsaParams,
      };
    case 'ec-p384':
      return {
        import: { name: 'ECDSA', namedCurve: 'P-384' },
        sign: { name: 'ECDSA', hash: 'SHA-384' } as EcdsaParams,
      };
    case 'ed25519':
      return { import: { name: 'Ed25519' }, sign: { name: 'Ed25519' } };
    case 'rsa-2048':
    case 'rsa-4096':
      return {
        import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as RsaHashedImportParams,
        sign: { name: 'RSASSA-PKCS1-v1_5' },
      };
  }
}

type EcKeyImportParams = { name: string; namedCurve: string };
type RsaHashedImportParams = { name: string; hash: string };
type EcdsaParams = { name: string; hash: string };
type Algorithm = { name: string };

/** A WebCrypto key pair for @peculiar/x509, plus the signing algorithm it expects. */
export async function toWebCryptoPair(
  privateKey: KeyObject,
  type: KeyType,
): Promise<{ keys: webcrypto.CryptoKeyPair; signingAlgorithm: Algorithm | EcdsaParams }> {
  const alg = webAlgorithm(type);
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const subtle = webcrypto.subtle;
  const priv = await subtle.importKey('pkcs8', pkcs8, alg.import, true, ['sign']);
  const pub = await subtle.importKey('spki', spki, alg.import, true, ['verify']);
  return { keys: { privateKey: priv, publicKey: pub }, signingAlgorithm: alg.sign };
}

export function privateKeyToPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function privateKeyFromPem(pem: string): KeyObject {
  return createPrivateKey({ key: pem, format: 'pem' });
}
