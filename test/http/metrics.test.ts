import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { AuthFailure } from '../../src/auth/failure.js';
import { type Challenger, refusalChallenges, sendAuthFailure } from '../../src/http/auth-refusal.js';
import {
  authorizationScheme,
  metricsAccessDecision,
  metricsPlugin,
  refusalHook,
  requestDurationHook,
} from '../../src/http/metrics.js';
import { buildProblem, sendProblem } from '../../src/http/problem.js';
import { requireScope } from '../../src/http/scope-guard.js';
import { Metrics } from '../../src/ops/metrics.js';
import type { Principal } from '../../src/types.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { type Family, parseExposition, sample, value } from '../ops/prometheus.js';

const ADMIN = { name: 'admin', password: 'kettle-sprocket-nimbus-77', digest: false };

/**
 * A small app shaped like src/http/app.ts: the real authenticator of a real data directory in an
 * onRequest hook, the refusal contract in the error handler, the metrics plugin and hooks.
 */
describe('/metrics and the request metrics hooks', () => {
  let server: TestServer;
  let app: FastifyInstance;
  let base: string;
  let metrics: Metrics;
  let access = 'loopback';
  let auditToken: string;
  let readerToken: string;

  before(async () => {
    server = await startTestServer({}, { admin: ADMIN });
    const { authenticator, opaqueTokens } = server.frontDoor;
    auditToken = (await opaqueTokens.create({ kind: 'api', owner: 'admin', scopes: ['audit:read'] })).token;
    readerToken = (await opaqueTokens.create({ kind: 'api', owner: 'admin', scopes: ['requests:read'] }))
      .token;
    metrics = new Metrics({ processMetrics: false });

    app = Fastify({ logger: false });
    app.decorateRequest('principal', null as unknown as Principal);
    const challenger: Challenger = {
      challenges: (failure, request) =>
        authenticator.challenges(failure, { address: request.ip, plainHttp: true }),
    };
    app.addHook('onRequest', async (request) => {
      const outcome = await authenticator.authenticate({
        authorization: request.headers.authorization,
        method: request.method,
        target: request.url,
        address: request.ip,
        plainHttp: true,
      });
      request.principal = outcome.principal;
    });
    app.addHook('onSend', refusalHook(metrics));
    app.addHook('onResponse', requestDurationHook(metrics));
    app.setErrorHandler((error, request, reply) => {
      if (error instanceof AuthFailure)
        return sendAuthFailure(request, reply, error, refusalChallenges(request, error, challenger));
      return reply.send(error);
    });
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, buildProblem(request, 'not_found', 'nothing here', 'see /openapi.json')),
    );
    await app.register(metricsPlugin, { metrics, access: () => access });
    app.get<{ Params: { id: string } }>(
      '/v1/requests/:id',
      { preHandler: requireScope('requests:read') },
      async (request) => ({ id: request.params.id }),
    );
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await app.close();
    await server.close();
  });

  async function get(path: string, token?: string) {
    const response = await fetch(`${base}${path}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
  }

  async function scrape() {
    const reply = await get('/metrics');
    assert.equal(reply.status, 200, reply.text);
    assert.match(reply.type ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(reply.text);
  }

  it('serves the Prometheus text format to a loopback caller', async () => {
    access = 'loopback';
    const families = await scrape();
    assert.equal(families.get('certmaster_refusals_total')?.type, 'COUNTER');
    assert.equal(families.get('certmaster_http_request_duration_seconds')?.type, 'HISTOGRAM');
  });

  it('records latency by route pattern, never by the URL a caller sent', async () => {
    const before = await scrape();
    const labels = { route: '/v1/requests/:id', method: 'GET', status: '200' };
    const countBefore = Number(
      sample(before, 'certmaster_http_request_duration_seconds', labels)?.count ?? 0,
    );
    assert.equal((await get('/v1/requests/first', readerToken)).status, 200);
    assert.equal((await get('/v1/requests/second', readerToken)).status, 200);
    assert.equal((await get('/no/such/thing-8d1e', readerToken)).status, 404);
    const families = await scrape();
    const routes = families
      .get('certmaster_http_request_duration_seconds')
      ?.metrics.map((m) => m.labels?.route ?? '');
    assert.ok(routes?.includes('/v1/requests/:id'));
    assert.ok(routes?.includes('unmatched'));
    assert.ok(!routes?.some((r) => r.includes('first') || r.includes('second') || r.includes('8d1e')));
    const after = sample(families, 'certmaster_http_request_duration_seconds', labels);
    assert.equal(Number(after?.count), countBefore + 2);
    assert.equal(after?.buckets?.['+Inf'], after?.count);
  });

  it('counts each refusal by status and reason, and each authentication attempt by outcome', async () => {
    const before = await scrape();
    const delta = (families: Map<string, Family>, name: string, labels: Record<string, string>) =>
      value(families, name, labels) - value(before, name, labels);

    assert.equal((await get('/v1/requests/x')).status, 401); // no credentials: a refusal, not an attempt
    assert.equal((await get('/v1/requests/x', 'cmat_not-a-real-token')).status, 401);
    assert.equal((await get('/v1/requests/x', auditToken)).status, 403); // authenticated, lacks the scope
    const basic = await fetch(`${base}/v1/requests/x`, {
      headers: { authorization: `Basic ${Buffer.from('admin:wrong-password-here').toString('base64')}` },
    });
    assert.equal(basic.status, 401);
    assert.equal((await get('/v1/requests/x', readerToken)).status, 200);

    const f = await scrape();
    assert.equal(delta(f, 'certmaster_refusals_total', { status: '401', reason: 'credentials_missing' }), 1);
    assert.equal(delta(f, 'certmaster_refusals_total', { status: '401', reason: 'token_invalid' }), 1);
    assert.equal(delta(f, 'certmaster_refusals_total', { status: '401', reason: 'credentials_invalid' }), 1);
    assert.equal(delta(f, 'certmaster_refusals_total', { status: '403', reason: 'insufficient_scope' }), 1);
    const attempts = (labels: Record<string, string>) => delta(f, 'certmaster_auth_attempts_total', labels);
    assert.equal(attempts({ scheme: 'bearer', outcome: 'failure', reason: 'token_invalid' }), 1);
    assert.equal(attempts({ scheme: 'basic', outcome: 'failure', reason: 'credentials_invalid' }), 1);
    // The 403 was a successful authentication followed by a refusal to authorize.
    assert.equal(attempts({ scheme: 'bearer', outcome: 'success', reason: 'ok' }), 2);
    const anyMissing = f
      .get('certmaster_auth_attempts_total')
      ?.metrics.some((m) => m.labels?.reason === 'credentials_missing');
    assert.equal(anyMissing, false);
  });

  it('with metrics.access = scope, asks for credentials with audit:read', async () => {
    access = 'scope';
    try {
      const anonymous = await get('/metrics');
      assert.equal(anonymous.status, 401);
      assert.equal(JSON.parse(anonymous.text).reason, 'credentials_missing');
      const lacking = await get('/metrics', readerToken);
      assert.equal(lacking.status, 403);
      assert.equal(JSON.parse(lacking.text).reason, 'insufficient_scope');
      assert.equal(JSON.parse(lacking.text).scope, 'audit:read');
      const allowed = await get('/metrics', auditToken);
      assert.equal(allowed.status, 200);
      assert.ok(parseExposition(allowed.text).has('certmaster_auth_attempts_total'));
    } finally {
      access = 'loopback';
    }
  });

  it('with metrics.access = open, serves anyone without credentials', async () => {
    access = 'open';
    try {
      assert.equal((await get('/metrics')).status, 200);
    } finally {
      access = 'loopback';
    }
  });
});

describe('metricsAccessDecision', () => {
  it('lets only loopback peers through by default, and fails closed on anything unknown', () => {
    for (const address of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) {
      assert.equal(metricsAccessDecision('loopback', address), 'allow', address);
    }
    for (const address of ['10.0.0.1', '192.0.2.7', '::ffff:10.0.0.1', '2001:db8::1', '::', '0.0.0.0']) {
      assert.equal(metricsAccessDecision('loopback', address), 'forbidden', address);
    }
    assert.equal(metricsAccessDecision('loopback', undefined), 'forbidden');
    assert.equal(metricsAccessDecision('bogus', '10.0.0.1'), 'forbidden');
    assert.equal(metricsAccessDecision('scope', '10.0.0.1'), 'authorize');
    assert.equal(metricsAccessDecision('open', '10.0.0.1'), 'allow');
  });
});

describe('authorizationScheme', () => {
  it('names the schemes certmaster knows, case-insensitively, and nothing else', () => {
    assert.equal(authorizationScheme('Bearer abc'), 'bearer');
    assert.equal(authorizationScheme('BASIC Zm9vOmJhcg=='), 'basic');
    assert.equal(authorizationScheme('Digest username="x"'), 'digest');
    assert.equal(authorizationScheme('Negotiate YII='), 'other');
    assert.equal(authorizationScheme(`${'x'.repeat(1000)} y`), 'other');
    assert.equal(authorizationScheme(undefined), 'other');
  });
});
