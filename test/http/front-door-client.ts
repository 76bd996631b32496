/**
 * What the refusal-contract tests need to talk to the front door the way a client does: HTTPS
 * requests from a chosen loopback address, every WWW-Authenticate field kept apart, a parser for
 * the challenge grammar of RFC 9110 §11.3, and a Digest client (RFC 7616 §3.4) built on our helpers.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import {
  computeHA1,
  computeUserhash,
  type DigestAlgorithm,
  expectedResponse,
} from '../../src/auth/schemes/digest.js';

export interface HttpsReply {
  status: number;
  headers: IncomingHttpHeaders;
  /** Every header field as sent, one entry per field line (what a client sees of repeated fields). */
  distinct: Record<string, string[]>;
  text: string;
  json: Record<string, unknown>;
}

export interface SendOptions {
  ca: string;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** A loopback address such as 127.0.0.7, so a test can be a client of its own (the throttle counts by address). */
  localAddress?: string;
  agent?: https.Agent;
  timeoutMs?: number;
}

export function send(url: string, options: SendOptions): Promise<HttpsReply> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        headers: options.headers ?? {},
        ...(options.localAddress ? { localAddress: options.localAddress } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> = {};
          try {
            const parsed: unknown = JSON.parse(text);
            if (parsed !== null && typeof parsed === 'object') json = parsed as Record<string, unknown>;
          } catch {
            json = {};
          }
          const distinct: Record<string, string[]> = {};
          for (const [name, values] of Object.entries(res.headersDistinct)) {
            if (values !== undefined) distinct[name] = values;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, distinct, text, json });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** application/x-www-form-urlencoded POST, as OAuth clients send. */
export function postForm(
  url: string,
  ca: string,
  form: Record<string, string>,
  extra: Omit<SendOptions, 'ca' | 'method' | 'body'> = {},
): Promise<HttpsReply> {
  return send(url, {
    ...extra,
    ca,
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(extra.headers ?? {}) },
    body: new URLSearchParams(form).toString(),
  });
}

export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export interface Challenge {
  /** As sent; compare case-insensitively. */
  scheme: string;
  token68: string | null;
  /** Names lower-cased, values unquoted. */
  params: Map<string, string>;
  raw: string;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * One challenge (RFC 9110 §11.3), strictly:
 *   challenge  = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 * and every parameter name at most once (§11.2). Throws with the reason when it does not parse.
 */
export function parseChallenge(raw: string): Challenge {
  const schemeMatch = TOKEN.exec(raw);
  if (!schemeMatch) throw new Error(`challenge does not start with an auth-scheme: ${raw}`);
  const scheme = schemeMatch[0];
  let rest = raw.slice(scheme.length);
  const params = new Map<string, string>();
  if (rest === '') return { scheme, token68: null, params, raw };
  if (!/^ +/.test(rest)) throw new Error(`auth-scheme must be followed by SP: ${raw}`);
  rest = rest.replace(/^ +/, '');
  if (TOKEN68.test(rest)) return { scheme, token68: rest, params, raw };
  let expectParam = true;
  while (rest !== '') {
    rest = rest.replace(/^[ \t]+/, '');
    if (rest.startsWith(',')) {
      rest = rest.slice(1);
      expectParam = true;
      continue;
    }
    if (rest === '') break;
    if (!expectParam) throw new Error(`expected "," between auth-params: ${raw}`);
    const name = TOKEN.exec(rest)?.[0];
    if (name === undefined) throw new Error(`expected an auth-param name at "${rest.slice(0, 20)}": ${raw}`);
    rest = rest.slice(name.length).replace(/^[ \t]*/, '');
    if (!rest.startsWith('=')) throw new Error(`auth-param ${name} lacks "=": ${raw}`);
    rest = rest.slice(1).replace(/^[ \t]*/, '');
    let value: string;
    if (rest.startsWith('"')) {
      const quoted = /^"((?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*)"/.exec(rest);
      if (!quoted) throw new Error(`auth-param ${name} has a bad quoted-string: ${raw}`);
      value = (quoted[1] ?? '').replace(/\\(.)/g, '$1');
      rest = rest.slice(quoted[0].length);
    } else {
      const token = TOKEN.exec(rest)?.[0];
      if (token === undefined)
        throw new Error(`auth-param ${name} has no token or quoted-string value: ${raw}`);
      value = token;
      rest = rest.slice(token.length);
    }
    const key = name.toLowerCase();
    if (params.has(key)) throw new Error(`auth-param ${name} repeated (RFC 9110 §11.2): ${raw}`);
    params.set(key, value);
    expectParam = false;
  }
  return { scheme, token68: null, params, raw };
}

/** An #auth-param list such as Authentication-Info (RFC 9110 §11.6.3), parsed like a challenge's. */
export function parseAuthParams(list: string): Map<string, string> {
  return parseChallenge(`params ${list}`).params;
}

/** Every challenge of the answer, one per WWW-Authenticate field. */
export function challengesOf(reply: HttpsReply): Challenge[] {
  return (reply.distinct['www-authenticate'] ?? []).map(parseChallenge);
}

export function challenge(reply: HttpsReply, scheme: string): Challenge {
  const found = challengesOf(reply).find((c) => c.scheme.toLowerCase() === scheme.toLowerCase());
  assert.ok(found, `a ${scheme} challenge in ${JSON.stringify(reply.distinct['www-authenticate'])}`);
  return found;
}

/** The problem+json body of RFC 9457 with certmaster's members, and X-Request-Id equal to request_id. */
export function assertProblem(reply: HttpsReply, status: number, reason: string): void {
  assert.equal(reply.status, status, reply.text);
  assert.match(String(reply.headers['content-type']), /^application\/problem\+json(;|$)/);
  const body = reply.json;
  assert.equal(body.type, `urn:certmaster:problem:${reason}`);
  assert.equal(typeof body.title, 'string');
  assert.ok(String(body.title).length > 0);
  assert.equal(body.status, status);
  assert.equal(typeof body.detail, 'string');
  assert.ok(String(body.detail).length > 0);
  assert.equal(body.reason, reason);
  assert.equal(typeof body.hint, 'string');
  assert.ok(String(body.hint).length > 10, 'a hint a person can act on');
  assert.equal(typeof body.request_id, 'string');
  assert.ok(String(body.request_id).length > 0);
  assert.equal(reply.headers['x-request-id'], body.request_id, 'X-Request-Id names the same request');
}

export interface ExpectedChallenges {
  realm: string;
  /** The RFC 6750 §3.1 error code the Bearer challenge must carry; absent: no error attributes at all. */
  bearerError?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  stale?: boolean;
}

/**
 * One WWW-Authenticate field per scheme, in the order Bearer, Digest, Basic, each as the refusal
 * contract describes it. Returns the Digest challenge, whose nonce a client answers next.
 */
export function assertChallenges(reply: HttpsReply, expected: ExpectedChallenges): Challenge {
  const fields = reply.distinct['www-authenticate'] ?? [];
  const all = fields.map(parseChallenge);
  assert.deepEqual(
    all.map((c) => c.scheme.toLowerCase()),
    ['bearer', 'digest', 'basic'],
    `one field per scheme: ${JSON.stringify(fields)}`,
  );
  const [bearer, digest, basic] = all as [Challenge, Challenge, Challenge];

  assert.equal(bearer.params.get('realm'), expected.realm);
  if (expected.bearerError === undefined) {
    for (const attribute of ['error', 'error_description', 'error_uri', 'scope']) {
      assert.ok(!bearer.params.has(attribute), `no ${attribute} when no token was presented: ${bearer.raw}`);
    }
  } else {
    assert.equal(bearer.params.get('error'), expected.bearerError, bearer.raw);
    const description = bearer.params.get('error_description') ?? '';
    assert.ok(description.length > 0, `error_description: ${bearer.raw}`);
    assert.match(description, /^[\x20\x21\x23-\x5b\x5d-\x7e]+$/, 'RFC 6750 §3 error_description characters');
  }

  assert.equal(digest.params.get('realm'), expected.realm);
  assert.equal(digest.params.get('qop'), 'auth');
  assert.match(digest.raw, /qop="auth"/, 'qop is a quoted-string (RFC 7616 §3.3)');
  assert.equal(digest.params.get('algorithm'), 'SHA-256');
  assert.ok((digest.params.get('nonce') ?? '').length >= 16, `a nonce: ${digest.raw}`);
  assert.ok((digest.params.get('opaque') ?? '').length > 0, `an opaque value: ${digest.raw}`);
  assert.equal(digest.params.get('userhash'), 'true');
  assert.equal(digest.params.get('charset')?.toUpperCase(), 'UTF-8');
  if (expected.stale) assert.equal(digest.params.get('stale'), 'true', digest.raw);
  else assert.ok(!digest.params.has('stale'), `no stale=true on a fresh challenge: ${digest.raw}`);

  assert.equal(basic.params.get('realm'), expected.realm);
  assert.match(basic.raw, /charset="UTF-8"/, 'RFC 7617 §2.1 charset="UTF-8"');
  return digest;
}

export interface DigestAnswer {
  header: string;
  /** The response= value: a secret-equivalent the server must never log. */
  response: string;
  cnonce: string;
  nc: string;
}

/** Answers a Digest challenge as RFC 7616 §3.4 says, with userhash=true when the challenge asks for it. */
export function answerDigest(
  challengeToAnswer: Challenge,
  credentials: { user: string; password: string },
  request: { method: string; uri: string },
  nc = 1,
): DigestAnswer {
  const algorithm = (challengeToAnswer.params.get('algorithm') ?? 'MD5') as DigestAlgorithm;
  const realm = challengeToAnswer.params.get('realm') ?? '';
  const nonce = challengeToAnswer.params.get('nonce') ?? '';
  const opaque = challengeToAnswer.params.get('opaque');
  const userhash = challengeToAnswer.params.get('userhash') === 'true';
  const cnonce = randomBytes(12).toString('hex');
  const ncText = nc.toString(16).padStart(8, '0');
  const ha1 = computeHA1(algorithm, credentials.user, realm, credentials.password);
  const response = expectedResponse({
    alg: algorithm,
    ha1,
    nonce,
    nc: ncText,
    cnonce,
    qop: 'auth',
    method: request.method,
    uri: request.uri,
  });
  const username = userhash ? computeUserhash(algorithm, credentials.user, realm) : credentials.user;
  const fields = [
    `username="${username}"`,
    `realm="${realm}"`,
    `uri="${request.uri}"`,
    `algorithm=${algorithm}`,
    `nonce="${nonce}"`,
    `nc=${ncText}`,
    `cnonce="${cnonce}"`,
    'qop=auth',
    `response="${response}"`,
    ...(opaque !== undefined ? [`opaque="${opaque}"`] : []),
    ...(userhash ? ['userhash=true'] : []),
  ];
  return { header: `Digest ${fields.join(', ')}`, response, cnonce, nc: ncText };
}

/** The rspauth the server must send after a digest success (RFC 7616 §3.5: A2 is ":" uri). */
export function expectedRspauth(
  credentials: { user: string; password: string },
  answered: { realm: string; nonce: string; uri: string; cnonce: string; nc: string },
): string {
  const ha1 = computeHA1('SHA-256', credentials.user, answered.realm, credentials.password);
  return expectedResponse({
    alg: 'SHA-256',
    ha1,
    nonce: answered.nonce,
    nc: answered.nc,
    cnonce: answered.cnonce,
    qop: 'auth',
    method: '',
    uri: answered.uri,
  });
}

/** Hands out distinct loopback addresses, so one test's failures never throttle another's. */
export function loopbackAddresses(first = 10): () => string {
  let next = first;
  return () => {
    if (next > 250) throw new Error('out of loopback addresses');
    return `127.0.0.${next++}`;
  };
}
