/**
 * The CA key at rest, under a passphrase: PKCS#8 EncryptedPrivateKeyInfo (RFC 5958 §3) with PBES2
 * (RFC 8018 §6.2): PBKDF2 with HMAC-SHA-256 and AES-256-CBC, so `openssl pkey -passin` reads it too.
 * node's own `KeyObject.export({ cipher, passphrase })` makes the same structure but with OpenSSL's
 * default of 2,048 PBKDF2 iterations; the key that signs every certificate gets 600,000 (OWASP's
 * figure for PBKDF2-HMAC-SHA256), about a third of a second once at start.
 */
import { createCipheriv, createPrivateKey, type KeyObject, pbkdf2Sync, randomBytes } from 'node:crypto';
import { derToPem } from '../util/pem.js';
import { integer, nullValue, octetString, oid, sequence } from './der.js';

export const KEY_PBKDF2_ITERATIONS = 600_000;
/** Shorter than this, a passphrase is refused when a key is encrypted with it. */
export const MIN_PASSPHRASE_LENGTH = 12;

const PBES2 = '1.2.840.113549.1.5.13';
const PBKDF2 = '1.2.840.113549.1.5.12';
const HMAC_WITH_SHA256 = '1.2.840.113549.2.9';
const AES_256_CBC = '2.16.840.1.101.3.4.1.42';

export class KeyPassphraseError extends Error {
  override name = 'KeyPassphraseError';
}

/** True when the PEM holds an encrypted PKCS#8 key. */
export function isEncryptedKeyPem(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----');
}

export function checkNewPassphrase(passphrase: string): void {
  if ([...passphrase].length < MIN_PASSPHRASE_LENGTH) {
    throw new KeyPassphraseError(
      `the passphrase is shorter than ${MIN_PASSPHRASE_LENGTH} characters; use a longer one (a few random words will do)`,
    );
  }
}

/** The key as an "ENCRYPTED PRIVATE KEY" PEM under `passphrase`. */
export function encryptPrivateKeyPem(
  key: KeyObject,
  passphrase: string,
  iterations: number = KEY_PBKDF2_ITERATIONS,
): string {
  checkNewPassphrase(passphrase);
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const derived = pbkdf2Sync(Buffer.from(passphrase, 'utf8'), salt, iterations, 32, 'sha256');
  const plain = key.export({ format: 'der', type: 'pkcs8' });
  const cipher = createCipheriv('aes-256-cbc', derived, iv);
  const encrypted = Buffer.concat([cipher.update(plain), cipher.final()]);
  derived.fill(0);
  const iterationBytes = Buffer.alloc(4);
  iterationBytes.writeUInt32BE(iterations);
  const algorithm = sequence(
    oid(PBES2),
    sequence(
      sequence(
        oid(PBKDF2),
        sequence(octetString(salt), integer(iterationBytes), sequence(oid(HMAC_WITH_SHA256), nullValue())),
      ),
      sequence(oid(AES_256_CBC), octetString(iv)),
    ),
  );
  return derToPem(sequence(algorithm, octetString(encrypted)), 'ENCRYPTED PRIVATE KEY');
}

/** Opens an encrypted (or plain) PKCS#8 PEM; a wrong passphrase is a KeyPassphraseError. */
export function openPrivateKeyPem(pem: string, passphrase: string | undefined): KeyObject {
  if (!isEncryptedKeyPem(pem)) return createPrivateKey({ key: pem, format: 'pem' });
  if (passphrase === undefined)
    throw new KeyPassphraseError('the key is encrypted and no passphrase was given');
  try {
    return createPrivateKey({ key: pem, format: 'pem', passphrase });
  } catch {
    // OpenSSL says "bad decrypt" for a wrong passphrase; a corrupt file fails the same way.
    throw new KeyPassphraseError('the passphrase does not open the key (or the key file is damaged)');
  }
}
