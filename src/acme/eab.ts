/**
 * External Account Binding (RFC 8555 §7.3.4): newAccount's `externalAccountBinding` is a flattened JWS
 * made with a MAC key the CA handed out, whose payload is the new account's public key and whose
 * protected header names the key id and the newAccount URL, without a nonce.
 */
import { flattenedVerify, type JWK } from 'jose';
import { asFlattenedJws, thumbprintOf } from './jws.js';
import { malformed, unauthorized } from './problem.js';

/** RFC 8555 §7.3.4: the binding MUST use a MAC algorithm. */
const EAB_ALGORITHMS = ['HS256', 'HS384', 'HS512'];

export interface EabKey {
  tokenId: string;
  namePatterns: string[];
  hmacKey: Buffer;
}

export interface EabKeys {
  /** The live key a kid names, or null (unknown, revoked, expired or used-up token). */
  find(kid: string): Promise<EabKey | null>;
}

export interface EabBinding {
  tokenId: string;
  namePatterns: string[];
}

export async function verifyEab(
  value: unknown,
  accountJwk: JWK,
  newAccountUrl: string,
  keys: EabKeys,
): Promise<EabBinding> {
  const jws = asFlattenedJws(value);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw malformed('the externalAccountBinding header is not base64url JSON', 'see RFC 8555 §7.3.4');
  }
  if (typeof header.alg !== 'string' || !EAB_ALGORITHMS.includes(header.alg))
    throw malformed(
      'externalAccountBinding must be signed with HS256, HS384 or HS512',
      'sign the binding with the HMAC key you were given (RFC 8555 §7.3.4)',
    );
  if ('nonce' in header)
    throw malformed('externalAccountBinding must not carry a nonce', 'see RFC 8555 §7.3.4');
  if (header.url !== newAccountUrl)
    throw unauthorized(
      `the externalAccountBinding "url" is not ${newAccountUrl}`,
      'set the binding’s "url" to the newAccount URL (RFC 8555 §7.3.4)',
    );
  if (typeof header.kid !== 'string')
    throw malformed('externalAccountBinding has no "kid"', 'set "kid" to the key id you were given');
  const key = await keys.find(header.kid);
  const refusal = unauthorized(
    'the externalAccountBinding key id is unknown, revoked, expired or used up, or its MAC does not verify',
    'ask an operator for a fresh `certmaster token create --enroll PATTERN --acme-eab`',
  );
  if (!key) throw refusal;
  let payload: Uint8Array;
  try {
    // jose compares the MAC in constant time.
    payload = (await flattenedVerify(jws, key.hmacKey, { algorithms: EAB_ALGORITHMS })).payload;
  } catch {
    throw refusal;
  }
  let bound: JWK;
  try {
    bound = JSON.parse(Buffer.from(payload).toString('utf8')) as JWK;
  } catch {
    throw malformed('the externalAccountBinding payload is not a JWK', 'bind the account’s public key');
  }
  let same = false;
  try {
    same = (await thumbprintOf(bound)) === (await thumbprintOf(accountJwk));
  } catch {
    same = false;
  }
  if (!same)
    throw unauthorized(
      'the externalAccountBinding binds another key than the one signing newAccount',
      'put the account’s own public JWK in the binding’s payload (RFC 8555 §7.3.4)',
    );
  return { tokenId: key.tokenId, namePatterns: key.namePatterns };
}
