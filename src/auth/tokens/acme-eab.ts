/**
 * ACME External Account Binding credentials (RFC 8555 §7.3.4) of an enrollment token: the key id is
 * the token's id, the HMAC key is derived from the token's stored hash. The server therefore keeps no
 * second secret, and whoever holds the token (the operator who created it) can compute the key.
 * Revoking or expiring the token ends the binding's use for new accounts.
 */
import { createHmac } from 'node:crypto';
import type { TokenRecord } from '../../store/identities/auth-store.js';
import type { Clock } from '../../types.js';
import { sha256Hex } from './token-secrets.js';

const LABEL = 'certmaster acme eab v1';

/** The HMAC key for a token whose stored hash is `secretHash`. */
export function eabHmacKey(secretHash: string): Buffer {
  return createHmac('sha256', Buffer.from(secretHash, 'hex')).update(LABEL).digest();
}

/** What `certmaster token create --acme-eab` prints: the kid and the base64url HMAC key. */
export function eabCredentialsOf(tokenId: string, token: string): { kid: string; hmacKey: string } {
  return { kid: tokenId, hmacKey: eabHmacKey(sha256Hex(token)).toString('base64url') };
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
): Promise<EabKey | null> {
  if (!/^tok_[A-Za-z0-9_-]{1,64}$/.test(kid)) return null;
  const record = await store.getToken(kid);
  if (record?.kind !== 'enrollment' || record.namePattern === null) return null;
  if (record.revokedAt !== null) return null;
  if (record.expiresAt !== null && record.expiresAt <= clock.now()) return null;
  if (record.usesLeft !== null && record.usesLeft <= 0) return null;
  return { tokenId: record.id, namePatterns: [record.namePattern], hmacKey: eabHmacKey(record.secretHash) };
}
