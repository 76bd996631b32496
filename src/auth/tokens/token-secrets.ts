/**
 * Random bearer secrets with recognisable prefixes (so secret scanners can find leaked ones), and
 * the hash the store keeps instead of them. 256 random bits need no slow hash: SHA-256 is right.
 */
import { hash } from 'node:crypto';
import { pooledRandomBytes } from '../../util/random-pool.js';

export const API_TOKEN_PREFIX = 'cmat_';
export const ENROLLMENT_TOKEN_PREFIX = 'cmet_';
export const REFRESH_TOKEN_PREFIX = 'cmrt_';
export type TokenPrefix =
  | typeof API_TOKEN_PREFIX
  | typeof ENROLLMENT_TOKEN_PREFIX
  | typeof REFRESH_TOKEN_PREFIX;

const SECRET_BYTES = 32;
/** Prefix plus base64url of 32 bytes (43 characters, no padding). */
const SECRET_TOKEN_PATTERN = /^(cmat_|cmet_|cmrt_)[A-Za-z0-9_-]{43}$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

export function newSecretToken(prefix: TokenPrefix): string {
  return prefix + pooledRandomBytes(SECRET_BYTES).toString('base64url');
}

/** The prefix of a well-formed secret token, or null for anything else (checked before any lookup). */
export function secretTokenPrefix(token: string): TokenPrefix | null {
  const match = SECRET_TOKEN_PATTERN.exec(token);
  return match ? (match[1] as TokenPrefix) : null;
}

export function sha256Hex(text: string): string {
  return hash('sha256', text, 'hex');
}

/** `prefix` + `length` random base32 characters: public ids ("tok_...", "rtk_..."), not secrets. */
export function randomId(prefix: string, length: number): string {
  const bytes = pooledRandomBytes(length);
  let id = prefix;
  // 256 is a multiple of 32, so masking keeps every character equally likely.
  for (const byte of bytes) id += BASE32[byte & 31];
  return id;
}
