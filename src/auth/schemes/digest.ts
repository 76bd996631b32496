/**
 * The Digest scheme, RFC 7616, with qop=auth only (auth-int would need the body before auth runs,
 * and no common client uses it).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { quoteString } from './authorization.js';

export type DigestAlgorithm = 'SHA-256' | 'SHA-512-256' | 'MD5';
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'SHA-512-256', 'MD5'];

// SHA-512-256 is SHA-512/256 of FIPS 180-4 (its own initial values), not SHA-512 cut to 256 bits
// (RFC 7616 §3.2). Beware: the printed §3.9.2 example and curl 7.88 both get this wrong.
const NODE_HASH: Record<DigestAlgorithm, string> = {
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
  MD5: 'md5',
};
const HEX_LENGTH: Record<DigestAlgorithm, number> = { 'SHA-256': 64, 'SHA-512-256': 64, MD5: 32 };

/** Bounds for the opaque strings a client echoes or chooses. */
const MAX_NONCE_LENGTH = 256;
const MAX_URI_LENGTH = 4096;
const MAX_USERNAME_LENGTH = 512;

/** H(data) of RFC 7616 §3.4: the lower-case hex hash of the UTF-8 octets. */
export function hashHex(alg: DigestAlgorithm, text: string): string {
  return createHash(NODE_HASH[alg]).update(text, 'utf8').digest('hex');
}

/** H(A1) for a non-session algorithm: H(username ":" realm ":" password) (§3.4.2). */
export function computeHA1(alg: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hashHex(alg, `${username}:${realm}:${password}`);
}

/** The hashed user name a client sends when userhash=true: H(username ":" realm) (§3.4.4). */
export function computeUserhash(alg: DigestAlgorithm, username: string, realm: string): string {
  return hashHex(alg, `${username}:${realm}`);
}

export function parseDigestAlgorithm(value: string): DigestAlgorithm | null {
  const upper = value.toUpperCase();
  return DIGEST_ALGORITHMS.find((alg) => alg === upper) ?? null;
}

export interface DigestResponse {
  /** The user name, or the userhash when `userhash` is true; decoded from username* when that was used. */
  username: string;
  userhash: boolean;
  realm: string;
  uri: string;
  nonce: string;
  cnonce: string;
  /** nc exactly as sent: it is hashed as text, so "0000000A" and "0000000a" differ. */
  nc: string;
  /** nc as a number, for replay detection. */
  nonceCount: number;
  qop: 'auth';
  /** Lower-case hex of the algorithm's length. */
  response: string;
  /** MD5 when the client sent none (§3.4: the default). */
  algorithm: DigestAlgorithm;
  opaque: string | null;
}

/** Printable ASCII without spaces: what nonces, cnonces, opaque values and request-targets are made of. */
function isVisibleAscii(value: string, max: number): boolean {
  return value.length >= 1 && value.length <= max && /^[\x21-\x7e]+$/.test(value);
}

const ATTR_CHAR_OR_PCT = /^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-Fa-f]{2})*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * username* is an RFC 8187 ext-value: charset "'" [ language ] "'" value-chars. We announce
 * charset=UTF-8, so that is the only charset accepted.
 */
export function decodeExtValue(value: string): string | null {
  const match = /^([A-Za-z0-9!#$%&+\-^_`{}~]+)'([A-Za-z0-9-]*)'(.*)$/.exec(value);
  if (!match) return null;
  const [, charset, , encoded] = match;
  if (charset?.toUpperCase() !== 'UTF-8' || encoded === undefined || !ATTR_CHAR_OR_PCT.test(encoded))
    return null;
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '%') {
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i));
    }
  }
  try {
    return UTF8.decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
}

/**
 * Reads the response fields of §3.4 from parsed auth-params (see parseAuthorization). Unknown
 * parameters are ignored (§3.4). Never throws.
 */
export function parseDigestResponse(params: Map<string, string>): DigestResponse | { malformed: string } {
  const missing = ['realm', 'uri', 'nonce', 'cnonce', 'nc', 'qop', 'response'].find(
    (name) => !params.has(name),
  );
  if (missing) return { malformed: `Digest credentials lack the "${missing}" parameter` };

  const plain = params.get('username');
  const extended = params.get('username*');
  // §3.4: exactly one of username and username* (the latter for names that cannot be quoted).
  if (plain !== undefined && extended !== undefined) {
    return { malformed: 'Digest credentials carry both "username" and "username*"; send one' };
  }
  let username: string;
  if (plain !== undefined) {
    username = plain;
  } else if (extended !== undefined) {
    const decoded = decodeExtValue(extended);
    if (decoded === null)
      return { malformed: '"username*" is not a UTF-8 ext-value (RFC 8187), e.g. UTF-8\'\'J%C3%A4s%C3%B8n' };
    username = decoded;
  } else {
    return { malformed: 'Digest credentials lack the "username" parameter' };
  }
  if (username.length === 0 || username.length > MAX_USERNAME_LENGTH) {
    return { malformed: `the Digest username must have 1 to ${MAX_USERNAME_LENGTH} characters` };
  }

  const algorithmParam = params.get('algorithm');
  const algorithm = algorithmParam === undefined ? 'MD5' : parseDigestAlgorithm(algorithmParam);
  if (algorithm === null)
    return { malformed: 'unsupported Digest algorithm; use one offered in the challenge' };

  const qop = params.get('qop') ?? '';
  if (qop.toLowerCase() !== 'auth') return { malformed: 'Digest qop must be "auth" (the only one offered)' };

  const nc = params.get('nc') ?? '';
  if (!/^[0-9A-Fa-f]{8}$/.test(nc)) return { malformed: 'Digest nc must be 8 hexadecimal digits' };
  const nonceCount = Number.parseInt(nc, 16);

  const response = (params.get('response') ?? '').toLowerCase();
  if (response.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(response)) {
    return {
      malformed: `Digest response must be ${HEX_LENGTH[algorithm]} hexadecimal digits for ${algorithm}`,
    };
  }

  const nonce = params.get('nonce') ?? '';
  const cnonce = params.get('cnonce') ?? '';
  const uri = params.get('uri') ?? '';
  const opaque = params.get('opaque') ?? null;
  if (!isVisibleAscii(nonce, MAX_NONCE_LENGTH))
    return { malformed: 'Digest nonce is not one this server issued' };
  if (!isVisibleAscii(cnonce, MAX_NONCE_LENGTH)) {
    return { malformed: `Digest cnonce must be 1 to ${MAX_NONCE_LENGTH} printable ASCII characters` };
  }
  if (!isVisibleAscii(uri, MAX_URI_LENGTH)) return { malformed: 'Digest uri must be the request-target' };
  if (opaque !== null && !isVisibleAscii(opaque, MAX_NONCE_LENGTH)) {
    return { malformed: 'Digest opaque is not the one this server sent' };
  }

  const userhashParam = (params.get('userhash') ?? 'false').toLowerCase();
  if (userhashParam !== 'true' && userhashParam !== 'false')
    return { malformed: 'Digest userhash must be true or false' };

  return {
    username,
    userhash: userhashParam === 'true',
    realm: params.get('realm') ?? '',
    uri,
    nonce,
    cnonce,
    nc,
    nonceCount,
    qop: 'auth',
    response,
    algorithm,
    opaque,
  };
}

export interface ResponseInputs {
  alg: DigestAlgorithm;
  /** Hex H(A1), as computeHA1 returns and the store keeps instead of the password. */
  ha1: string;
  nonce: string;
  nc: string;
  cnonce: string;
  qop: 'auth';
  method: string;
  uri: string;
}

/** §3.4.1 with qop=auth: KD(H(A1), nonce:nc:cnonce:qop:H(A2)) where A2 = method ":" uri (§3.4.3). */
export function expectedResponse(inputs: ResponseInputs): string {
  const ha2 = hashHex(inputs.alg, `${inputs.method}:${inputs.uri}`);
  return hashHex(
    inputs.alg,
    `${inputs.ha1}:${inputs.nonce}:${inputs.nc}:${inputs.cnonce}:${inputs.qop}:${ha2}`,
  );
}

function assertHA1(alg: DigestAlgorithm, ha1: string): void {
  if (ha1.length !== HEX_LENGTH[alg])
    throw new RangeError(`H(A1) for ${alg} must be ${HEX_LENGTH[alg]} hex digits`);
}

/**
 * Checks the response in constant time. The caller must also have checked the nonce, the realm,
 * the opaque value, that the algorithm is enabled, uriMatches, and the nonce count.
 */
export function verifyDigestResponse(resp: DigestResponse, secret: { ha1: string; method: string }): boolean {
  assertHA1(resp.algorithm, secret.ha1);
  const expected = Buffer.from(
    expectedResponse({
      alg: resp.algorithm,
      ha1: secret.ha1.toLowerCase(),
      nonce: resp.nonce,
      nc: resp.nc,
      cnonce: resp.cnonce,
      qop: resp.qop,
      method: secret.method,
      uri: resp.uri,
    }),
    'latin1',
  );
  const given = Buffer.from(resp.response, 'latin1');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The Authentication-Info value proving the server knows H(A1) too (§3.5). rspauth uses A2 = ":" uri:
 * the method is left out so a response cannot be replayed as a request digest.
 */
export function authenticationInfo(opts: {
  alg: DigestAlgorithm;
  ha1: string;
  resp: DigestResponse;
  nextnonce?: string;
}): string {
  const { alg, ha1, resp } = opts;
  assertHA1(alg, ha1);
  const rspauth = expectedResponse({
    alg,
    ha1: ha1.toLowerCase(),
    nonce: resp.nonce,
    nc: resp.nc,
    cnonce: resp.cnonce,
    qop: resp.qop,
    method: '',
    uri: resp.uri,
  });
  const fields = [`qop=auth`, `rspauth="${rspauth}"`, `cnonce=${quoteString(resp.cnonce)}`, `nc=${resp.nc}`];
  if (opts.nextnonce !== undefined) fields.unshift(`nextnonce=${quoteString(opts.nextnonce)}`);
  return fields.join(', ');
}

export interface DigestChallengeOptions {
  realm: string;
  algorithm: DigestAlgorithm;
  nonce: string;
  opaque: string;
  /** The nonce the client used had expired: it may retry with the new one without asking the user (§3.3). */
  stale?: boolean;
  userhash: boolean;
  /** URIs of the protection space (§3.3), space-separated in one quoted-string. */
  domain?: readonly string[];
}

/** One Digest challenge (§3.3). realm is always a quoted-string (RFC 9110 §11.5). */
export function digestChallenge(opts: DigestChallengeOptions): string {
  const fields = [`realm=${quoteString(opts.realm)}`];
  if (opts.domain !== undefined && opts.domain.length > 0)
    fields.push(`domain=${quoteString(opts.domain.join(' '))}`);
  fields.push(
    'qop="auth"',
    `algorithm=${opts.algorithm}`,
    `nonce=${quoteString(opts.nonce)}`,
    `opaque=${quoteString(opts.opaque)}`,
    'charset=UTF-8',
  );
  if (opts.userhash) fields.push('userhash=true');
  if (opts.stale) fields.push('stale=true');
  return `Digest ${fields.join(', ')}`;
}

/** The request-target in origin-form; absolute-form (what a client talking to a proxy sends) is reduced to it. */
function originForm(target: string): string | null {
  if (target.startsWith('/') || target === '*') return target;
  const absolute = /^https?:\/\/[^/?#]*(.*)$/i.exec(target);
  if (!absolute) return null;
  const rest = absolute[1] ?? '';
  if (rest === '') return '/';
  return rest.startsWith('?') ? `/${rest}` : rest;
}

/**
 * §3.4.6: the uri parameter must name the request-target, or a response captured for one resource
 * could be replayed against another. Compared exactly (path and query), after reducing absolute-form.
 */
export function uriMatches(respUri: string, requestUrl: string): boolean {
  const a = originForm(respUri);
  const b = originForm(requestUrl);
  return a !== null && b !== null && a === b && !a.includes('#');
}
