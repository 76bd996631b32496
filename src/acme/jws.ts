/**
 * JWS verification for ACME requests (RFC 8555 §6.2): flattened JSON serialization only, an asymmetric
 * algorithm from a fixed list, exactly one of `jwk` and `kid`, and the `url` and `nonce` protected
 * headers present. The caller checks the URL against the request and spends the nonce.
 */
import { calculateJwkThumbprint, type FlattenedJWSInput, flattenedVerify, importJWK, type JWK } from 'jose';
import { AcmeProblem, malformed } from './problem.js';

/** RFC 8555 §6.2: MUST NOT be "none" or a MAC; these are the ones certmaster accepts. */
export const ACME_JWS_ALGORITHMS = ['ES256', 'ES384', 'RS256', 'EdDSA'] as const;

export interface AcmeProtectedHeader {
  alg: string;
  nonce: string;
  url: string;
  jwk?: JWK;
  kid?: string;
}

export interface VerifiedJws {
  header: AcmeProtectedHeader;
  /** Decoded payload text; "" for POST-as-GET (RFC 8555 §6.3). */
  payload: string;
  /** The public key that signed, as a JWK (the embedded one, or the account's). */
  jwk: JWK;
}

/** What an ACME JWS body looks like on the wire. */
export function asFlattenedJws(body: unknown): FlattenedJWSInput & { protected: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw malformed(
      'the body is not a flattened JWS object',
      'send a JWS in flattened JSON serialization (RFC 8555 §6.2)',
    );
  }
  const b = body as Record<string, unknown>;
  if (typeof b.protected !== 'string' || typeof b.payload !== 'string' || typeof b.signature !== 'string') {
    throw malformed(
      'the JWS must have string "protected", "payload" and "signature" members',
      'send a JWS in flattened JSON serialization (RFC 8555 §6.2)',
    );
  }
  if ('header' in b || 'signatures' in b) {
    // RFC 8555 §6.2: unprotected headers and multiple signatures are not allowed.
    throw malformed(
      'the JWS has an unprotected header or several signatures',
      'sign once, with every header protected',
    );
  }
  return { protected: b.protected, payload: b.payload, signature: b.signature };
}

export function readProtectedHeader(jws: { protected: string }): AcmeProtectedHeader {
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    throw malformed(
      'the JWS protected header is not base64url JSON',
      'encode the protected header as RFC 7515 says',
    );
  }
  if (typeof header !== 'object' || header === null)
    throw malformed('the JWS protected header is not an object', 'see RFC 8555 §6.2');
  const { alg, nonce, url, jwk, kid } = header;
  if (typeof alg !== 'string' || !(ACME_JWS_ALGORITHMS as readonly string[]).includes(alg)) {
    throw new AcmeProblem(
      'badSignatureAlgorithm',
      'acme_malformed',
      `the JWS algorithm ${typeof alg === 'string' ? `"${alg.slice(0, 20)}"` : '(none)'} is not accepted`,
      `sign with one of ${ACME_JWS_ALGORITHMS.join(', ')}`,
    );
  }
  if ((jwk === undefined) === (kid === undefined)) {
    throw malformed(
      'the JWS protected header must carry exactly one of "jwk" and "kid"',
      'use "jwk" for newAccount and revokeCert by certificate key, "kid" (the account URL) otherwise (RFC 8555 §6.2)',
    );
  }
  if (typeof url !== 'string')
    throw malformed(
      'the JWS protected header has no "url"',
      'set "url" to the URL you POST to (RFC 8555 §6.4)',
    );
  if (typeof nonce !== 'string' || !/^[A-Za-z0-9_-]{1,128}$/.test(nonce)) {
    throw new AcmeProblem(
      'badNonce',
      'acme_bad_nonce',
      'the JWS protected header has no usable "nonce"',
      'take a fresh nonce from the Replay-Nonce header or newNonce and sign again',
    );
  }
  if (jwk !== undefined && (typeof jwk !== 'object' || jwk === null || 'd' in jwk)) {
    throw new AcmeProblem(
      'badPublicKey',
      'acme_malformed',
      'the "jwk" header is not a public key',
      'embed the public JWK, never the private one',
    );
  }
  if (kid !== undefined && typeof kid !== 'string')
    throw malformed('"kid" is not a string', 'set "kid" to the account URL');
  return {
    alg,
    nonce,
    url,
    ...(jwk !== undefined ? { jwk: jwk as JWK } : {}),
    ...(kid !== undefined ? { kid: kid as string } : {}),
  };
}

/** Verifies the signature with `jwk` (the embedded key, or the account key the caller looked up). */
export async function verifyJwsSignature(
  jws: FlattenedJWSInput & { protected: string },
  header: AcmeProtectedHeader,
  jwk: JWK,
): Promise<VerifiedJws> {
  let key: Awaited<ReturnType<typeof importJWK>>;
  try {
    key = await importJWK(jwk, header.alg);
  } catch {
    throw new AcmeProblem(
      'badPublicKey',
      'acme_malformed',
      'the account key cannot be used with this algorithm',
      `use an ${ACME_JWS_ALGORITHMS.join(', ')} key`,
    );
  }
  try {
    const result = await flattenedVerify(jws, key, { algorithms: [...ACME_JWS_ALGORITHMS] });
    return { header, payload: Buffer.from(result.payload).toString('utf8'), jwk };
  } catch {
    throw malformed('the JWS signature does not verify', 'sign the request with the account key');
  }
}

/** RFC 7638 thumbprint of a public JWK: how an account key is recognised. */
export function thumbprintOf(jwk: JWK): Promise<string> {
  return calculateJwkThumbprint(jwk, 'sha256');
}

/** Only the public members of a JWK, in a stable form, for storage. */
export function publicJwk(jwk: JWK): JWK {
  const keep = ['kty', 'crv', 'x', 'y', 'n', 'e'] as const;
  const out: JWK = {};
  for (const k of keep) if (jwk[k] !== undefined) out[k] = jwk[k];
  return out;
}
