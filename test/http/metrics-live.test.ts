/**
 * /metrics on the whole server in process, over real HTTPS from loopback: a wrong password, an
 * autosigned issuance and an operator's revocation each move their counter, and request latency is
 * labelled by route pattern, never by the URL (with its serial) the caller sent. The exposition is
 * read by an independent parser (parse-prometheus-text-format).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';
import { type Family, parseExposition, sample, value } from '../ops/prometheus.js';
import { assertProblem, basicAuthorization, type HttpsReply, send } from './front-door-client.js';

const ADMIN = { name: 'chief', password: 'Quarry-Lantern-5521-velvet', digest: false };
const WRONG_PASSWORD = 'Not-The-Password-4410-juniper';
const DURATION = 'certmaster_http_request_duration_seconds';

const tmp = tempDir('metrics-live');
let srv: TestServer;

before(async () => {
  srv = await startTestServer({ 'ra.autosign': 'all' }, { admin: ADMIN });
});

after(async () => {
  await srv.close();
  tmp.remove();
});

function call(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<HttpsReply> {
  return send(`${srv.url}${path}`, { ca: srv.caPem, localAddress: '127.0.0.1', ...options });
}

async function scrape(): Promise<Map<string, Family>> {
  const reply = await call('/metrics');
  assert.equal(reply.status, 200, reply.text);
  assert.match(String(reply.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  assert.equal(reply.headers['cache-control'], 'no-store');
  return parseExposition(reply.text);
}

function histogramCount(families: Map<string, Family>, labels: Record<string, string>): number {
  return Number(sample(families, DURATION, labels)?.count ?? 0);
}

describe('/metrics on the running server', () => {
  test('is served to loopback with the counters and the latency histogram typed', async () => {
    const families = await scrape();
    assert.equal(families.get('certmaster_auth_attempts_total')?.type, 'COUNTER');
    assert.equal(families.get('certmaster_certificates_issued_total')?.type, 'COUNTER');
    assert.equal(families.get('certmaster_certificates_revoked_total')?.type, 'COUNTER');
    assert.equal(families.get(DURATION)?.type, 'HISTOGRAM');
  });

  test('a wrong password, an issuance and a revocation each move their counter', async () => {
    const before = await scrape();
    const failed = { scheme: 'basic', outcome: 'failure', reason: 'credentials_invalid' };
    const succeeded = { scheme: 'basic', outcome: 'success', reason: 'ok' };

    const refused = await call('/v1/whoami', {
      headers: { authorization: basicAuthorization(ADMIN.name, WRONG_PASSWORD) },
    });
    assertProblem(refused, 401, 'credentials_invalid');

    const { csrPem } = opensslCsr(tmp.path, 'web1', '/CN=web1.example.com');
    const issued = await call('/v1/requests', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csr: csrPem }),
    });
    assert.equal(issued.status, 201, issued.text);
    assert.equal(issued.json.state, 'issued');
    const serial = String(issued.json.serial);
    assert.match(serial, /^[0-9a-f]+$/);

    const revoked = await call(`/v1/certificates/${serial}/revoke`, {
      method: 'POST',
      headers: {
        authorization: basicAuthorization(ADMIN.name, ADMIN.password),
        'content-type': 'application/json',
      },
      body: JSON.stringify({ reason: 'keyCompromise' }),
    });
    assert.equal(revoked.status, 200, revoked.text);
    assert.equal(revoked.json.revocation_reason, 'keyCompromise');

    const now = await scrape();
    const moved = (name: string, labels: Record<string, string>) =>
      value(now, name, labels) - value(before, name, labels);
    assert.equal(moved('certmaster_auth_attempts_total', failed), 1, 'one failed attempt');
    assert.equal(moved('certmaster_auth_attempts_total', succeeded), 1, 'the revoking admin');
    assert.equal(moved('certmaster_refusals_total', { status: '401', reason: 'credentials_invalid' }), 1);
    assert.equal(moved('certmaster_certificates_issued_total', { via: 'autosign' }), 1);
    assert.equal(moved('certmaster_certificates_revoked_total', { reason: 'keyCompromise' }), 1);

    const submitted = { route: '/v1/requests', method: 'POST', status: '201' };
    assert.equal(histogramCount(now, submitted) - histogramCount(before, submitted), 1);
    const revocation = { route: '/v1/certificates/:serial/revoke', method: 'POST', status: '200' };
    assert.equal(histogramCount(now, revocation) - histogramCount(before, revocation), 1);
    const whoami = { route: '/v1/whoami', method: 'GET', status: '401' };
    assert.equal(histogramCount(now, whoami) - histogramCount(before, whoami), 1);

    const series = now.get(DURATION)?.metrics ?? [];
    const routes = new Set(series.map((m) => m.labels?.route));
    assert.ok(routes.has('/v1/requests'), [...routes].join(' '));
    for (const route of routes) {
      assert.ok(!String(route).includes(serial), `a route label holds the raw URL: ${route}`);
    }
    const entry = sample(now, DURATION, submitted);
    const buckets = entry?.buckets ?? {};
    assert.equal(buckets['+Inf'], entry?.count, 'every observation is in the +Inf bucket');
    assert.ok(Number(entry?.sum) > 0, 'the observed time');
  });

  test('URLs no route matches share one label', async () => {
    const before = await scrape();
    const strange = `/no/such/${'x'.repeat(12)}-8d1e`;
    const reply = await call(strange);
    assertProblem(reply, 404, 'not_found');
    const now = await scrape();
    const unmatched = { route: 'unmatched', method: 'GET', status: '404' };
    assert.equal(histogramCount(now, unmatched) - histogramCount(before, unmatched), 1);
    const routes = (now.get(DURATION)?.metrics ?? []).map((m) => String(m.labels?.route));
    assert.ok(!routes.some((r) => r.includes('8d1e')), routes.join(' '));
  });
});
