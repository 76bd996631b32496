/**
 * ACME External Account Binding credentials (RFC 8555 §7.3.4) of an enrollment token: the key id is
 * the token's id; the HMAC key is derived from the token's stored hash under a key of the server's own
 * (from DIR/secrets/auth.key), so that a copy of the database alone yields no EAB key. The server
 * keeps no second secret per token; `token create --acme-eab` prints the key once (with --data the
 * CLI derives it from the data directory, with --server the server answers it).
 * Revoking or expiring the token ends the binding's use for new accounts.
 */
import { createHmac } from 'node:crypto';
import type { TokenRecord } from '../../store/identities/auth-store.js';
import type { Clock } from '../../types.js';
import { sha256Hex } from './token-secrets.js';

const LABEL = 'certmaster acme eab v1';

/** The purpose under which the server's secret box derives the EAB key-derivation key. */
export const EAB_KEY_PURPOSE = 'acme-eab';

/** The HMAC key of token `tokenId`, whose stored hash is `secretHash`, under the server's `serverKey`. */
export function eabHmacKey(serverKey: Buffer, tokenId: string, secretHash: string): Buffer {
  return createHmac('sha256', serverKey).update(`${LABEL}\n${tokenId}\n${secretHash}`).digest();
}

/** What `certmaster token create --acme-eab` prints: the kid and the base64url HMAC key. */
export function eabCredentialsOf(
  serverKey: Buffer,
  tokenId: string,
  token: string,
): { kid: string; hmacKey: string } {
  return { kid: tokenId, hmacKey: eabHmacKey(serverKey, tokenId, sha256Hex(token)).toString('base64url') };
}

export interface EabKey {
  tokenId: string;
  namePatterns: string[];
  hmacKey: Buffer;
}

/** The EAB key a kid names, when it is a live enrollment token with uses left; null otherwise. */
export async function findEabKey(
  store: { getToken(id: string): Promise<TokenRecord | null> },
  kid: string,
  clock: Clock,
  serverKey: Buffer,
): Promise<EabKey | null> {
  if (!/^tok_[A-Za-z0-9_-]{1,64}$/.test(kid)) return null;
  const record = await store.getToken(kid);
  if (record?.kind !== 'enrollment' || record.namePattern === null) return null;
  if (record.revokedAt !== null) return null;
  if (record.expiresAt !== null && record.expiresAt <= clock.now()) return null;
  if (record.usesLeft !== null && record.usesLeft <= 0) return null;
  return {
    tokenId: record.id,
    namePatterns: [record.namePattern],
    hmacKey: eabHmacKey(serverKey, record.id, record.secretHash),
  };
}
