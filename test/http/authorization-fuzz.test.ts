/**
 * Whatever Authorization header arrives, GET /v1/whoami answers within the refusal contract: never
 * a 5xx, a 401 always with challenges that follow RFC 9110 §11.3, a 400/413/431 only with a
 * problem body, and the server still answers /healthz afterwards.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { createAccount } from '../../src/auth/accounts.js';
import { CLI_CLIENT_ID } from '../../src/client/api.js';
import { MovableClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { assertProblem, challengesOf, type HttpsReply, parseChallenge, send } from './front-door-client.js';

const clock = new MovableClock();
const USER = { name: 'fuzzy', password: 'Lichen-Piano-6602-zephyr' };
/** Under MAX_AUTHORIZATION_LENGTH and just over it, well within Node's 16 KiB header limit. */
const MAX_HEADER_CHARS = 8300;
const RUNS = 300;

let srv: TestServer;
let agent: https.Agent;
/** A real nonce and opaque value, so some fuzzed Digest responses get past the nonce check. */
let nonce = '';
let opaque = '';

before(async () => {
  srv = await startTestServer({}, { clock });
  await createAccount(srv.frontDoor.accounts, { ...USER, role: 'operator', digest: true });
  agent = new https.Agent({ keepAlive: true, maxSockets: 4, ca: srv.caPem });
  const first = await send(`${srv.url}/v1/whoami`, { ca: srv.caPem, agent });
  const digest = challengesOf(first).find((c) => c.scheme === 'Digest');
  nonce = digest?.params.get('nonce') ?? '';
  opaque = digest?.params.get('opaque') ?? '';
});
after(async () => {
  agent.destroy();
  await srv.close();
});

/** A valid access token at the clock's current time, for headers built around a real one. */
async function freshToken(): Promise<string> {
  const issued = await srv.frontDoor.accessTokens.issue({
    subject: USER.name,
    clientId: CLI_CLIENT_ID,
    scopes: ['requests:read'],
    roles: ['operator'],
    familyId: null,
    ttlSeconds: 900,
  });
  return issued.token;
}

/** Characters Node lets a client put in a header value: HTAB, SP, VCHAR and obs-text. */
const headerChar = fc
  .oneof(
    { weight: 6, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.constant(0x09) },
    { weight: 2, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
  )
  .map((code) => String.fromCharCode(code));
const headerText = (maxLength: number) => fc.string({ unit: headerChar, maxLength });
const tchar = fc.constantFrom(
  ..."!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split(''),
);
const token = fc.string({ unit: tchar, minLength: 1, maxLength: 24 });
const base64Char = fc.constantFrom(
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_='.split(''),
);

const hexChar = fc.constantFrom(...'0123456789abcdef'.split(''));
const hex = (minLength: number, maxLength: number) => fc.string({ unit: hexChar, minLength, maxLength });

const scheme = fc.oneof(
  fc.constantFrom('Basic', 'basic', 'BASIC', 'Digest', 'digest', 'Bearer', 'bearer', 'BEARER'),
  fc.constantFrom('Negotiate', 'NTLM', 'HOBA', 'Mutual', 'SCRAM-SHA-256', 'AWS4-HMAC-SHA256', 'DPoP'),
  token,
);
const separator = fc.oneof(
  { weight: 6, arbitrary: fc.constant(' ') },
  { weight: 1, arbitrary: fc.constantFrom('  ', '\t', ' \t', '', ',') },
);
const equals = fc.oneof(
  { weight: 6, arbitrary: fc.constant('=') },
  { weight: 1, arbitrary: fc.constantFrom(' = ', '=\t', '') },
);

/** A quoted-string with escapes, sometimes broken (unterminated, stray backslash at the end). */
const quoted = fc
  .tuple(headerText(40), fc.constantFrom('"', '', '\\', '\\"'))
  .map(([text, end]) => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}${end === '"' ? '"' : end}`);
const paramValue = fc.oneof(
  token,
  quoted,
  headerText(30),
  fc.constant(''),
  fc.constantFrom(`"${'a'.repeat(300)}"`, '"\\\\"', '"\\"', '"é"', '"\xc3\xa9"', '"\xff\xfe"'),
);
const paramName = fc.oneof(
  fc.constantFrom('username', 'username*', 'realm', 'uri', 'nonce', 'cnonce', 'nc', 'qop', 'response'),
  fc.constantFrom('algorithm', 'opaque', 'userhash', 'error', 'scope', 'charset'),
  token,
);
const paramList = fc.array(fc.tuple(paramName, equals, paramValue), { maxLength: 40 }).chain((params) =>
  fc
    .array(fc.constantFrom(', ', ',', ' , ', ',,', ' '), {
      minLength: params.length,
      maxLength: params.length,
    })
    .map((seps) =>
      params.map(([n, eq, v], i) => `${n}${eq}${v}${i < params.length - 1 ? seps[i] : ''}`).join(''),
    ),
);

const base64Garbage = fc.oneof(
  fc.string({ unit: base64Char, maxLength: 200 }),
  fc.uint8Array({ maxLength: 150 }).map((bytes) => Buffer.from(bytes).toString('base64')),
  fc
    .tuple(fc.string({ maxLength: 30 }), fc.string({ maxLength: 60 }))
    .map(([user, password]) => Buffer.from(`${user}:${password}`, 'utf8').toString('base64')),
  fc.string({ maxLength: 40 }).map((text) => Buffer.from(text, 'latin1').toString('base64')),
);

const jwtLike = fc
  .tuple(
    fc.oneof(
      fc
        .constantFrom('none', 'EdDSA', 'HS256', 'RS256', 'ES256')
        .map((alg) => JSON.stringify({ alg, typ: 'at+jwt' })),
      fc.json(),
    ),
    fc.oneof(fc.json(), fc.constant(JSON.stringify({ sub: 'fuzzy', exp: 4e9, aud: 'certmaster' }))),
    fc.string({ unit: base64Char, maxLength: 90 }),
  )
  .map(([h, p, s]) => `${Buffer.from(h).toString('base64url')}.${Buffer.from(p).toString('base64url')}.${s}`);

const opaqueLike = fc
  .tuple(
    fc.constantFrom('cmat_', 'cmet_', 'cmrt_', 'cmat', ''),
    fc.string({ unit: base64Char, maxLength: 64 }),
  )
  .map(([prefix, rest]) => `${prefix}${rest}`);

/** Usually the value a well-behaved client sends, sometimes one of the others. */
function mostly<T>(usual: T, ...others: fc.Arbitrary<T>[]): fc.Arbitrary<T> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constant(usual) },
    ...others.map((arbitrary) => ({ weight: 1, arbitrary })),
  );
}

/** A Digest response with the server's real nonce and fields random enough to reach every check after parsing. */
const nearDigest = fc
  .record({
    username: fc.oneof(token, fc.constant(USER.name), hex(64, 64)),
    realm: mostly('certmaster', fc.constantFrom('other', '')),
    uri: mostly(
      '/v1/whoami',
      fc.constantFrom('/v1/users', 'https://127.0.0.1/v1/whoami', '*', '/v1/whoami#x'),
    ),
    algorithm: mostly('SHA-256', fc.constantFrom('sha-256', 'MD5', 'SHA-512-256', 'SHA-1', 'SHA-256-sess')),
    nonceValue: mostly('REAL', token),
    nc: mostly('00000001', fc.constantFrom('ffffffff', '00000000', '0000000A'), token),
    cnonce: token,
    qop: mostly('auth', fc.constantFrom('auth-int', 'AUTH', '""')),
    response: mostly('', hex(64, 64), hex(0, 70)),
    opaqueValue: mostly('REAL', fc.constantFrom('wrong', '')),
    userhash: mostly('true', fc.constantFrom('false', 'maybe', '')),
  })
  .chain((d) => (d.response === '' ? hex(64, 64).map((response) => ({ ...d, response })) : fc.constant(d)))
  .map(
    (d) =>
      `username="${d.username}", realm="${d.realm}", uri="${d.uri}", algorithm=${d.algorithm}, ` +
      `nonce="${d.nonceValue === 'REAL' ? nonce : d.nonceValue}", nc=${d.nc}, cnonce="${d.cnonce}", qop=${d.qop}, ` +
      `response="${d.response}"${d.opaqueValue === '' ? '' : `, opaque="${d.opaqueValue === 'REAL' ? opaque : d.opaqueValue}"`}` +
      `${d.userhash === '' ? '' : `, userhash=${d.userhash}`}`,
  );

const credentials = fc.oneof(
  { weight: 3, arbitrary: paramList },
  { weight: 3, arbitrary: base64Garbage },
  { weight: 2, arbitrary: jwtLike },
  { weight: 2, arbitrary: opaqueLike },
  { weight: 2, arbitrary: nearDigest },
  { weight: 2, arbitrary: headerText(200) },
  { weight: 1, arbitrary: fc.constantFrom('REALTOKEN', 'REALTOKEN.x', 'REALTOKEN ', '') },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(base64Char, tchar, headerChar), fc.integer({ min: 1000, max: MAX_HEADER_CHARS }))
      .map(([c, n]) => c.repeat(n)),
  },
);

const bearerCredentials = fc.oneof(
  jwtLike,
  opaqueLike,
  fc.constantFrom(
    'REALTOKEN',
    'REALTOKEN.x',
    'REALTOKENx',
    'xREALTOKEN',
    'REALTOKEN=',
    'REALTOKEN REALTOKEN',
  ),
);

/** Any scheme with any credentials, and each scheme with credentials shaped for it, so every check is reached. */
const authorization = fc
  .oneof(
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom('', ' ', '\t'), scheme, separator, credentials) },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constant(''), fc.constantFrom('Basic', 'basic'), separator, base64Garbage),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constant(''), fc.constantFrom('Digest', 'DIGEST'), separator, nearDigest),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.constant(''), fc.constantFrom('Bearer', 'bearer'), separator, bearerCredentials),
    },
  )
  .map(([lead, s, sep, cred]) => `${lead}${s}${sep}${cred}`.slice(0, MAX_HEADER_CHARS));

const RETRY_STATUSES = new Set([401, 429]);
const PROBLEM_ONLY_STATUSES = new Set([400, 413, 431]);

function checkAnswer(header: string, reply: HttpsReply): void {
  const where = `Authorization: ${JSON.stringify(header.slice(0, 200))} -> ${reply.status} ${reply.text.slice(0, 300)}`;
  assert.ok(reply.status < 500, where);
  if (reply.status === 200) {
    assert.equal(reply.json.name, USER.name, where);
    return;
  }
  assert.ok(RETRY_STATUSES.has(reply.status) || PROBLEM_ONLY_STATUSES.has(reply.status), where);
  assert.match(String(reply.headers['content-type']), /^application\/problem\+json/, where);
  assert.equal(reply.json.status, reply.status, where);
  assert.equal(typeof reply.json.reason, 'string', where);
  assert.equal(reply.json.request_id, reply.headers['x-request-id'], where);
  if (reply.status === 429) {
    assertProblem(reply, 429, 'too_many_attempts');
    assert.ok(Number(reply.headers['retry-after']) > 0, where);
  }
  if (reply.status === 401) {
    const fields = reply.distinct['www-authenticate'] ?? [];
    assert.ok(fields.length >= 1, `a 401 without a challenge: ${where}`);
    const challenges = fields.map((field) => {
      try {
        return parseChallenge(field);
      } catch (error) {
        throw new Error(`${(error as Error).message} (${where})`);
      }
    });
    // The auth-scheme is the leading token (RFC 9110 §11.1), whatever follows it.
    const presentedScheme = /^[ \t]*([!#$%&'*+\-.^_`|~0-9A-Za-z]+)/.exec(header)?.[1]?.toLowerCase();
    const bearer = challenges.find((c) => c.scheme.toLowerCase() === 'bearer');
    if (presentedScheme !== 'bearer' && bearer !== undefined) {
      assert.ok(!bearer.params.has('error'), `bearer error attributes without a bearer token: ${where}`);
    }
  }
}

describe('random Authorization headers at GET /v1/whoami', () => {
  test(`${RUNS} headers: never a 5xx, every 401 with well-formed challenges`, {
    timeout: 300_000,
  }, async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(authorization, async (template) => {
        // Forget earlier failures (the throttle's window is 15 minutes) so every run reaches the checks.
        clock.advance(3600);
        const header = template.includes('REALTOKEN')
          ? template.replace(/REALTOKEN/g, await freshToken())
          : template;
        const reply = await send(`${srv.url}/v1/whoami`, {
          ca: srv.caPem,
          agent,
          headers: { authorization: header },
        });
        seen.set(reply.status, (seen.get(reply.status) ?? 0) + 1);
        checkAnswer(header, reply);
      }),
      { numRuns: RUNS, interruptAfterTimeLimit: 240_000, markInterruptAsFailure: false },
    );
    assert.ok((seen.get(401) ?? 0) > RUNS / 2, `mostly 401s: ${JSON.stringify([...seen])}`);
    const health = await send(`${srv.url}/healthz`, { ca: srv.caPem, agent });
    assert.equal(health.status, 200);
    assert.equal(health.json.status, 'ok');
  });

  test('the headers at and just past the length bound', async () => {
    for (const length of [8192 - 'Bearer '.length, 8193 - 'Bearer '.length, 12_000]) {
      const header = `Bearer ${'a'.repeat(length)}`;
      const reply = await send(`${srv.url}/v1/whoami`, {
        ca: srv.caPem,
        agent,
        headers: { authorization: header },
      });
      checkAnswer(header, reply);
      assert.equal(reply.status, 401);
    }
    const health = await send(`${srv.url}/healthz`, { ca: srv.caPem, agent });
    assert.equal(health.status, 200);
  });
});
