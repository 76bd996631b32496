/**
 * Interoperability with the real curl on this machine: a node:http server answers 401 with our
 * challenges and checks the Authorization header with our functions, exactly as the HTTP layer will.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { buildChallenges } from '../../../src/auth/challenge.js';
import { isMalformed, parseAuthorization } from '../../../src/auth/schemes/authorization.js';
import { parseBasicCredentials } from '../../../src/auth/schemes/basic.js';
import {
  authenticationInfo,
  computeHA1,
  computeUserhash,
  type DigestAlgorithm,
  type DigestResponse,
  digestChallenge,
  expectedResponse,
  parseDigestResponse,
  uriMatches,
  verifyDigestResponse,
} from '../../../src/auth/schemes/digest.js';
import { DigestNonces } from '../../../src/auth/schemes/digest-nonce.js';
import { MovableClock } from '../../helpers/clock.js';

const run = promisify(execFile);
const REALM = 'certmaster';
const USERS = new Map([
  ['alice', 'correct horse'],
  ['jäsøn', 'Secret, or not?'],
  ['bob', 'pässwörd €:with colon'],
]);

interface Outcome {
  scheme: string;
  ok: boolean;
  why: string;
  algorithm?: DigestAlgorithm;
  userhash?: boolean;
  user?: string;
  authorization?: string;
}

interface ServerConfig {
  /** The challenges, in order; by default buildChallenges over the enabled algorithms. */
  challenges?: (nonce: string) => string[];
  algorithms: DigestAlgorithm[];
  basic: boolean;
  userhash: boolean;
  /** Called after each 401 that carried a fresh nonce, e.g. to move the clock. */
  afterChallenge?: () => void;
}

class TestServer {
  readonly clock = new MovableClock();
  readonly nonces = new DigestNonces({ key: randomBytes(32), clock: this.clock, lifetimeSeconds: 300 });
  readonly outcomes: Outcome[] = [];
  config: ServerConfig = { algorithms: ['SHA-256'], basic: true, userhash: true };
  private readonly server = http.createServer((req, res) => this.handle(req, res));

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }
  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
  url(path: string): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}${path}`;
  }
  reset(config: ServerConfig): void {
    this.config = config;
    this.outcomes.length = 0;
  }

  private refuse(res: http.ServerResponse, outcome: Outcome, stale = false): void {
    this.outcomes.push(outcome);
    const nonce = this.nonces.issue();
    const challenges =
      this.config.challenges?.(nonce) ??
      buildChallenges({
        realm: REALM,
        basic: this.config.basic,
        bearer: false,
        digestAlgorithms: this.config.algorithms,
        nonce: () => nonce,
        opaque: this.nonces.opaque,
        stale,
        digestUserhash: this.config.userhash,
      });
    res.writeHead(401, { 'WWW-Authenticate': challenges, 'Content-Type': 'text/plain' });
    res.end('no');
    this.config.afterChallenge?.();
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const verdict = this.authenticate(req);
    if (verdict.ha1 === undefined && !verdict.outcome.ok) {
      this.refuse(res, verdict.outcome, verdict.outcome.why === 'stale');
      return;
    }
    this.outcomes.push(verdict.outcome);
    if (verdict.ha1 !== undefined && verdict.resp !== undefined) {
      const info = authenticationInfo({ alg: verdict.resp.algorithm, ha1: verdict.ha1, resp: verdict.resp });
      res.setHeader('Authentication-Info', info);
    }
    res.end('ok');
  }

  /** What the HTTP layer's auth hook will do, reduced to the checks these modules provide. */
  private authenticate(req: http.IncomingMessage): { outcome: Outcome; ha1?: string; resp?: DigestResponse } {
    const header = req.headers.authorization;
    if (header === undefined) return { outcome: { scheme: 'none', ok: false, why: 'no credentials' } };
    const parsed = parseAuthorization(header);
    if (isMalformed(parsed)) return { outcome: { scheme: 'none', ok: false, why: parsed.malformed } };
    if (parsed.scheme === 'basic') {
      const creds = parseBasicCredentials(parsed.token68);
      if ('malformed' in creds) return { outcome: { scheme: 'basic', ok: false, why: creds.malformed } };
      const ok = USERS.get(creds.userId) === creds.password;
      return { outcome: { scheme: 'basic', ok, why: ok ? 'ok' : 'wrong password', user: creds.userId } };
    }
    if (parsed.scheme !== 'digest') return { outcome: { scheme: parsed.scheme, ok: false, why: 'scheme' } };
    const resp = parseDigestResponse(parsed.params);
    if ('malformed' in resp) return { outcome: { scheme: 'digest', ok: false, why: resp.malformed } };
    const seen = {
      scheme: 'digest',
      algorithm: resp.algorithm,
      userhash: resp.userhash,
      authorization: header,
    };
    const verdict = this.verifyDigest(req, resp);
    if (verdict.ha1 === undefined)
      return { outcome: { ...seen, ok: false, why: verdict.why, user: verdict.user } };
    return { outcome: { ...seen, ok: true, why: 'ok', user: verdict.user }, ha1: verdict.ha1, resp };
  }

  private verifyDigest(
    req: http.IncomingMessage,
    resp: DigestResponse,
  ): { why: string; ha1?: string; user?: string } {
    if (resp.realm !== REALM) return { why: 'realm' };
    if (resp.opaque !== this.nonces.opaque) return { why: 'opaque' };
    if (!this.config.algorithms.includes(resp.algorithm)) return { why: 'algorithm not enabled' };
    if (!uriMatches(resp.uri, req.url ?? '')) return { why: 'uri' };
    const state = this.nonces.check(resp.nonce);
    if (state === 'invalid') return { why: 'nonce' };
    const user = [...USERS.keys()].find((name) =>
      resp.userhash ? computeUserhash(resp.algorithm, name, REALM) === resp.username : name === resp.username,
    );
    if (user === undefined) return { why: 'unknown user' };
    const ha1 = computeHA1(resp.algorithm, user, REALM, USERS.get(user) ?? '');
    if (!verifyDigestResponse(resp, { ha1, method: req.method ?? '' })) return { why: 'bad response', user };
    // RFC 7616 §3.3: stale=true only when the digest itself was right, or a client with a wrong
    // password would be told to retry silently instead of asking its user again.
    if (state === 'stale') return { why: 'stale', user };
    if (!this.nonces.acceptNonceCount(resp.nonce, resp.nonceCount)) return { why: 'nc replay', user };
    return { why: 'ok', ha1, user };
  }
}

async function curl(args: string[], url: string): Promise<{ status: number; headers: string }> {
  const { stdout } = await run(
    'curl',
    ['-sS', '-D', '-', '-o', '/dev/null', '-w', '%{http_code}', ...args, url],
    {
      timeout: 15_000,
    },
  );
  return { status: Number(stdout.slice(-3)), headers: stdout.slice(0, -3) };
}

function send(url: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: { Authorization: authorization } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

function succeeded(outcomes: Outcome[]): Outcome {
  const last = outcomes.at(-1);
  assert.ok(last?.ok, `curl did not authenticate: ${JSON.stringify(outcomes)}`);
  return last;
}

describe('interop with the real curl', () => {
  const server = new TestServer();
  let curlVersion = '';
  before(async () => {
    await server.start();
    curlVersion = /^curl (\d+\.\d+)/.exec((await run('curl', ['--version'])).stdout)?.[1] ?? '';
  });
  after(() => server.stop());

  it('curl --digest authenticates with SHA-256 and userhash when SHA-256 is the only algorithm', async () => {
    server.reset({ algorithms: ['SHA-256'], basic: false, userhash: true });
    const { status, headers } = await curl(
      ['--digest', '-u', 'alice:correct horse'],
      server.url('/v1/whoami?x=1'),
    );
    assert.equal(status, 200);
    const outcome = succeeded(server.outcomes);
    assert.deepEqual([outcome.algorithm, outcome.userhash, outcome.user], ['SHA-256', true, 'alice']);
    assert.match(headers, /authentication-info: qop=auth, rspauth="[0-9a-f]{64}"/i);
  });

  it('curl --digest stays on SHA-256 when MD5 is offered too', async () => {
    server.reset({ algorithms: ['SHA-256', 'MD5'], basic: false, userhash: true });
    assert.equal(
      (await curl(['--digest', '-u', 'alice:correct horse'], server.url('/v1/requests'))).status,
      200,
    );
    assert.equal(succeeded(server.outcomes).algorithm, 'SHA-256');
  });

  it('curl --digest does not pick SHA-512-256 when all three algorithms are offered in our order', async () => {
    server.reset({ algorithms: ['SHA-512-256', 'MD5', 'SHA-256'], basic: false, userhash: true });
    assert.equal(
      (await curl(['--digest', '-u', 'alice:correct horse'], server.url('/v1/requests'))).status,
      200,
    );
    const outcome = succeeded(server.outcomes);
    assert.notEqual(outcome.algorithm, 'SHA-512-256');
    assert.equal(outcome.algorithm, 'SHA-256');
  });

  it('why the order matters: curl answers the FIRST Digest challenge, and 7.88 gets SHA-512-256 wrong', async () => {
    const reversed = (nonce: string) =>
      (['SHA-512-256', 'SHA-256'] as const).map((algorithm) =>
        digestChallenge({ realm: REALM, algorithm, nonce, opaque: server.nonces.opaque, userhash: false }),
      );
    server.reset({
      challenges: reversed,
      algorithms: ['SHA-512-256', 'SHA-256'],
      basic: false,
      userhash: false,
    });
    const { status } = await curl(['--digest', '-u', 'alice:correct horse'], server.url('/v1/whoami'));
    const answer = server.outcomes.find((o) => o.scheme === 'digest');
    assert.equal(answer?.algorithm, 'SHA-512-256', 'curl took the first Digest challenge');
    if (curlVersion === '7.88') {
      // curl 7.88 hashes "SHA-512-256" with SHA-256 (and sends algorithm=SHA-512-256): a true
      // SHA-512/256 check fails, and curl would be locked out if SHA-512-256 came first.
      assert.equal(status, 401);
      assert.equal(answer?.why, 'bad response');
      const resp = parseDigestResponse(
        (parseAuthorization(answer?.authorization ?? '') as { params: Map<string, string> }).params,
      );
      assert.ok(!('malformed' in resp));
      const ha1 = computeHA1('SHA-256', 'alice', REALM, 'correct horse');
      const asSha256 = expectedResponse({ ...resp, alg: 'SHA-256', ha1, method: 'GET' });
      assert.equal(asSha256, resp.response);
    } else {
      assert.equal(status, 200, `curl ${curlVersion} computes SHA-512-256 correctly`);
    }
  });

  it('curl --digest sends a UTF-8 user name that we read back, with and without userhash', async () => {
    for (const userhash of [true, false]) {
      server.reset({ algorithms: ['SHA-256'], basic: false, userhash });
      assert.equal(
        (await curl(['--digest', '-u', 'jäsøn:Secret, or not?'], server.url('/doe.json'))).status,
        200,
      );
      const outcome = succeeded(server.outcomes);
      assert.deepEqual([outcome.user, outcome.userhash], ['jäsøn', userhash]);
    }
  });

  it('curl --anyauth picks Digest SHA-256 over Basic', async () => {
    server.reset({ algorithms: ['SHA-256', 'MD5'], basic: true, userhash: true });
    assert.equal(
      (await curl(['--anyauth', '-u', 'alice:correct horse'], server.url('/v1/whoami'))).status,
      200,
    );
    const outcome = succeeded(server.outcomes);
    assert.deepEqual([outcome.scheme, outcome.algorithm], ['digest', 'SHA-256']);
  });

  it('curl --digest with a wrong password is refused, and the refusal carries the challenges again', async () => {
    server.reset({ algorithms: ['SHA-256'], basic: false, userhash: true });
    const { status, headers } = await curl(['--digest', '-u', 'alice:wrong'], server.url('/v1/whoami'));
    assert.equal(status, 401);
    assert.equal(server.outcomes.at(-1)?.why, 'bad response');
    assert.match(headers, /www-authenticate: Digest realm="certmaster", qop="auth", algorithm=SHA-256/i);
  });

  it('a captured Digest header is refused when replayed (nc) or sent to another URI', async () => {
    server.reset({ algorithms: ['SHA-256'], basic: false, userhash: true });
    assert.equal(
      (await curl(['--digest', '-u', 'alice:correct horse'], server.url('/v1/whoami'))).status,
      200,
    );
    const captured = succeeded(server.outcomes).authorization ?? '';
    assert.equal(await send(server.url('/v1/whoami'), captured), 401);
    assert.equal(server.outcomes.at(-1)?.why, 'nc replay');
    assert.equal(await send(server.url('/v1/users'), captured), 401);
    assert.equal(server.outcomes.at(-1)?.why, 'uri');
  });

  it('curl retries by itself with the new nonce after stale=true', async () => {
    let moved = false;
    server.reset({
      algorithms: ['SHA-256'],
      basic: false,
      userhash: true,
      afterChallenge: () => {
        if (moved) return;
        moved = true;
        server.clock.advance(301);
      },
    });
    assert.equal(
      (await curl(['--digest', '-u', 'alice:correct horse'], server.url('/v1/whoami'))).status,
      200,
    );
    assert.deepEqual(
      server.outcomes.map((o) => o.why),
      ['no credentials', 'stale', 'ok'],
    );
  });

  it('a wrong password on an expired nonce gets a plain refusal, not stale=true', async () => {
    let moved = false;
    server.reset({
      algorithms: ['SHA-256'],
      basic: false,
      userhash: true,
      afterChallenge: () => {
        if (moved) return;
        moved = true;
        server.clock.advance(301);
      },
    });
    const { status, headers } = await curl(['--digest', '-u', 'alice:wrong'], server.url('/v1/whoami'));
    assert.equal(status, 401);
    assert.deepEqual(
      server.outcomes.map((o) => o.why),
      ['no credentials', 'bad response'],
    );
    assert.doesNotMatch(headers, /stale=true/);
  });

  it('curl --basic sends a UTF-8 password with a colon that parseBasicCredentials reads exactly', async () => {
    server.reset({ algorithms: ['SHA-256'], basic: true, userhash: true });
    const { status } = await curl(['--basic', '-u', 'bob:pässwörd €:with colon'], server.url('/v1/whoami'));
    assert.equal(status, 200);
    assert.deepEqual([succeeded(server.outcomes).scheme, succeeded(server.outcomes).user], ['basic', 'bob']);
  });
});
