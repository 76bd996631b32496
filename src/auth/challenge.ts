/**
 * The WWW-Authenticate challenges of a 401. One string per challenge, so the HTTP layer sends one
 * header field each (RFC 9110 §11.6.1 allows both forms; separate fields are what every client parses).
 */
import { randomBytes } from 'node:crypto';
import { quoteString } from './schemes/authorization.js';
import { basicChallenge } from './schemes/basic.js';
import { type DigestAlgorithm, digestChallenge } from './schemes/digest.js';

/** RFC 6750 §3.1 error codes. */
export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope';

export interface BearerChallengeOptions {
  error?: BearerError;
  errorDescription?: string;
  /** Space-delimited scope tokens (RFC 6750 §3, RFC 6749 §3.3). */
  scope?: string;
}

const MAX_ERROR_DESCRIPTION = 200;
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * RFC 6750 §3: error_description is %x20-21 / %x23-5B / %x5D-7E, so no '"' or '\' even escaped.
 * The text is ours, but it may quote a claim from a token; map what cannot be sent, keep the rest.
 */
export function sanitizeErrorDescription(text: string): string {
  let out = '';
  for (const c of text) {
    if (out.length >= MAX_ERROR_DESCRIPTION) break;
    const code = c.codePointAt(0) ?? 0;
    if (c === '"') out += "'";
    else if (c === '\\') out += '/';
    else if (code >= 0x20 && code <= 0x7e) out += c;
    else if (code === 0x09 || code === 0x0a || code === 0x0d) out += ' ';
    else out += '?';
  }
  return out;
}

/**
 * RFC 6750 §3. With no token presented the challenge carries no error attributes ("SHOULD NOT
 * include an error code or other error information"), so errorDescription is only sent with error.
 */
export function bearerChallenge(realm: string, opts: BearerChallengeOptions = {}): string {
  const fields = [`realm=${quoteString(realm)}`];
  if (opts.scope !== undefined) {
    const tokens = opts.scope.split(' ');
    if (!tokens.every((t) => SCOPE_TOKEN.test(t)))
      throw new RangeError('scope must be space-delimited scope tokens');
    fields.push(`scope="${opts.scope}"`);
  }
  if (opts.error !== undefined) {
    fields.push(`error="${opts.error}"`);
    if (opts.errorDescription !== undefined) {
      fields.push(`error_description="${sanitizeErrorDescription(opts.errorDescription)}"`);
    }
  }
  return `Bearer ${fields.join(', ')}`;
}

export interface ChallengeOptions {
  realm: string;
  basic: boolean;
  digestAlgorithms: readonly DigestAlgorithm[];
  bearer: boolean;
  /** Called once: every Digest challenge of the response carries the same nonce. */
  nonce: () => string;
  opaque: string;
  /** The Digest nonce the client used had expired (RFC 7616 §3.3 stale). */
  stale?: boolean;
  /** Error attributes for the Bearer challenge, only when a bearer token was presented. */
  bearerError?: BearerChallengeOptions;
  digestUserhash: boolean;
}

/**
 * Digest algorithms in the order they are offered. RFC 7616 §3.7: the server lists challenges
 * "in order of preference", and a client SHOULD use the first one it supports. Clients differ,
 * as measured (curl 7.88 in test/auth/schemes/interop.test.ts; python-requests 2.34 and GNU Wget
 * 1.21.3 by hand against these challenges):
 * - curl 7.88 answers the FIRST Digest challenge, and accepts SHA-512-256 but hashes it with
 *   SHA-256, so SHA-256 (the mandatory-to-implement one, §3.7) leads. Browsers are reported to take
 *   the first one they support too (not measured here), which is then also SHA-256.
 * - python-requests reads all challenges as one comma-joined list and takes the LAST algorithm=
 *   value; it implements MD5 and SHA-256 correctly but not SHA-512-256 (it then sends nothing).
 *   So MD5, when an operator enables it for legacy clients, goes last, after SHA-512-256.
 * With SHA-256 alone (the default) curl and requests answer SHA-256; Wget knows only MD5.
 */
const DIGEST_ORDER: readonly DigestAlgorithm[] = ['SHA-256', 'SHA-512-256', 'MD5'];

/**
 * All challenges for a 401, in this order: Bearer, Digest (DIGEST_ORDER), Basic.
 * - Clients that pick the strongest scheme (browsers, curl --anyauth) are unaffected by order.
 * - Clients that take the first scheme they support land on Digest rather than Basic, so the
 *   password never travels when the client could avoid it. Bearer leads because a token is our
 *   strongest credential, and clients without one skip the scheme (none answers Bearer by guessing).
 * - GNU Wget 1.21 answers the LAST challenge, whatever its scheme, and for an unknown scheme such as
 *   Bearer it sends Basic unasked; for a SHA-256 Digest challenge it sends MD5 without saying so.
 *   Basic last gives it a scheme it implements; without Basic, MD5 (if enabled) is last.
 */
export function buildChallenges(opts: ChallengeOptions): string[] {
  const challenges: string[] = [];
  if (opts.bearer) challenges.push(bearerChallenge(opts.realm, opts.bearerError));
  const digests = DIGEST_ORDER.filter((alg) => opts.digestAlgorithms.includes(alg));
  if (digests.length > 0) {
    const nonce = opts.nonce();
    for (const algorithm of digests) {
      challenges.push(
        digestChallenge({
          realm: opts.realm,
          algorithm,
          nonce,
          opaque: opts.opaque,
          stale: opts.stale ?? false,
          userhash: opts.digestUserhash,
        }),
      );
    }
  }
  if (opts.basic) challenges.push(basicChallenge(opts.realm));
  return challenges;
}

/** The challenges of one kind of 401, prebuilt around the place of the nonce. */
export interface ChallengeTemplate {
  /** The challenges with a fresh nonce, asked for only when a Digest challenge needs one. */
  fill(nonce: () => string): string[];
}

/**
 * Stands where the nonce goes while the template is built: printable (the nonce is quoted like any
 * value) and random, so no realm can hold it by chance.
 */
const NONCE_MARK = `~nonce-${randomBytes(16).toString('hex')}~`;

export function challengeTemplate(opts: Omit<ChallengeOptions, 'nonce' | 'bearerError'>): ChallengeTemplate {
  const parts = buildChallenges({ ...opts, nonce: () => NONCE_MARK }).map((challenge) =>
    challenge.split(NONCE_MARK),
  );
  if (parts.some((p) => p.length > 2)) throw new Error('a challenge holds the nonce twice');
  if (!parts.some((p) => p.length === 2)) {
    const fixed = parts.map((p) => p[0] ?? '');
    return { fill: () => [...fixed] };
  }
  return {
    fill(nonce) {
      const value = nonce();
      return parts.map((p) => (p.length === 2 ? `${p[0]}${value}${p[1]}` : (p[0] ?? '')));
    },
  };
}
