import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { register as globalRegistry } from 'prom-client';
import { Metrics, type MetricsSources } from '../../src/ops/metrics.js';
import { MovableClock } from '../helpers/clock.js';
import { parseExposition, sample, value } from './prometheus.js';

async function scrape(metrics: Metrics) {
  const { contentType, text } = await metrics.exposition();
  assert.match(contentType, /^text\/plain; version=0\.0\.4/);
  return parseExposition(text);
}

function sources(overrides: Partial<MetricsSources> = {}): MetricsSources {
  return {
    countPending: async () => 0,
    countExpiringCertificates: async (windows) => windows.map(() => 0),
    caNotAfter: () => null,
    serverCertificateNotAfter: () => null,
    ...overrides,
  };
}

describe('Metrics', () => {
  it('counts authentication attempts by scheme, outcome and reason', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.authAttempt('basic', 'failure', 'credentials_invalid');
    metrics.authAttempt('basic', 'failure', 'credentials_invalid');
    metrics.authAttempt('Bearer', 'success', 'ignored on success');
    metrics.authAttempt('digest', 'failure', 'nonce_stale');
    const f = await scrape(metrics);
    assert.equal(f.get('certmaster_auth_attempts_total')?.type, 'COUNTER');
    const attempts = (labels: Record<string, string>) => value(f, 'certmaster_auth_attempts_total', labels);
    assert.equal(attempts({ scheme: 'basic', outcome: 'failure', reason: 'credentials_invalid' }), 2);
    assert.equal(attempts({ scheme: 'bearer', outcome: 'success', reason: 'ok' }), 1);
    assert.equal(attempts({ scheme: 'digest', outcome: 'failure', reason: 'nonce_stale' }), 1);
  });

  it('counts refusals, issuance, renewal and revocation', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.refusal(401, 'credentials_missing');
    metrics.refusal(403, 'insufficient_scope');
    metrics.refusal(403, 'insufficient_scope');
    metrics.refusal(429, 'too_many_attempts');
    metrics.issued('autosign');
    metrics.issued('operator');
    metrics.issued('operator');
    metrics.issued('identity');
    metrics.renewed();
    metrics.revoked('keyCompromise');
    metrics.webhookDelivery('failed');
    const f = await scrape(metrics);
    assert.equal(value(f, 'certmaster_refusals_total', { status: '401', reason: 'credentials_missing' }), 1);
    assert.equal(value(f, 'certmaster_refusals_total', { status: '403', reason: 'insufficient_scope' }), 2);
    assert.equal(value(f, 'certmaster_refusals_total', { status: '429', reason: 'too_many_attempts' }), 1);
    assert.equal(value(f, 'certmaster_certificates_issued_total', { via: 'autosign' }), 1);
    assert.equal(value(f, 'certmaster_certificates_issued_total', { via: 'operator' }), 2);
    assert.equal(value(f, 'certmaster_certificates_issued_total', { via: 'identity' }), 1);
    assert.equal(value(f, 'certmaster_certificates_renewed_total'), 1);
    assert.equal(value(f, 'certmaster_certificates_revoked_total', { reason: 'keyCompromise' }), 1);
    assert.equal(value(f, 'certmaster_webhook_deliveries_total', { outcome: 'failed' }), 1);
  });

  it('keeps label values to a bounded vocabulary, whatever a caller sends', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.authAttempt('NTLM', 'failure', 'x'.repeat(500));
    metrics.refusal(999, 'Robert"); DROP TABLE');
    metrics.observeRequest('/v1/requests/:id', 'BREW', 200, 0.01);
    metrics.revoked('not a reason!');
    const f = await scrape(metrics);
    assert.equal(value(f, 'certmaster_auth_attempts_total', { scheme: 'other', reason: 'other' }), 1);
    assert.equal(value(f, 'certmaster_refusals_total', { status: 'other', reason: 'other' }), 1);
    assert.equal(sample(f, 'certmaster_http_request_duration_seconds', { method: 'OTHER' })?.count, '1');
    assert.equal(value(f, 'certmaster_certificates_revoked_total', { reason: 'other' }), 1);
  });

  it('observes request latency in a histogram by route pattern, method and status', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.observeRequest('/v1/requests/:id', 'GET', 200, 0.003);
    metrics.observeRequest('/v1/requests/:id', 'GET', 200, 0.2);
    metrics.observeRequest('/v1/requests/:id', 'GET', 404, 0.001);
    metrics.observeRequest('/v1/requests/:id', 'GET', 200, Number.NaN);
    const f = await scrape(metrics);
    assert.equal(f.get('certmaster_http_request_duration_seconds')?.type, 'HISTOGRAM');
    const ok = sample(f, 'certmaster_http_request_duration_seconds', {
      route: '/v1/requests/:id',
      method: 'GET',
      status: '200',
    });
    assert.equal(ok?.count, '2');
    assert.equal(Number(ok?.sum), 0.203);
    assert.equal(ok?.buckets?.['0.005'], '1');
    assert.equal(ok?.buckets?.['0.25'], '2');
    assert.equal(sample(f, 'certmaster_http_request_duration_seconds', { status: '404' })?.count, '1');
  });

  it('reads gauges at scrape time through the injected sources', async () => {
    const clock = new MovableClock();
    let pending = 3;
    const asked: number[][] = [];
    const metrics = new Metrics({
      clock,
      processMetrics: false,
      sources: sources({
        countPending: async () => pending,
        countExpiringCertificates: async (windows) => {
          asked.push([...windows]);
          return windows.map((d) => (d === 7 ? 2 : 5));
        },
        caNotAfter: () => new Date(clock.now().getTime() + 400 * 86_400_000),
        serverCertificateNotAfter: () => new Date(clock.now().getTime() + 3_600_000),
      }),
    });
    let f = await scrape(metrics);
    assert.equal(value(f, 'certmaster_pending_requests'), 3);
    assert.equal(value(f, 'certmaster_certificates_expiring', { within_days: '7' }), 2);
    assert.equal(value(f, 'certmaster_certificates_expiring', { within_days: '30' }), 5);
    assert.deepEqual(asked, [[7, 30]]);
    assert.equal(value(f, 'certmaster_certificate_expiry_seconds', { certificate: 'ca' }), 400 * 86_400);
    assert.equal(value(f, 'certmaster_certificate_expiry_seconds', { certificate: 'server' }), 3600);

    pending = 0;
    f = await scrape(metrics);
    assert.equal(value(f, 'certmaster_pending_requests'), 0);
  });

  it('says "unknown" rather than zero when a source fails, and counts the failure', async () => {
    const metrics = new Metrics({
      processMetrics: false,
      sources: sources({
        countPending: async () => {
          throw new Error('store unreachable');
        },
        countExpiringCertificates: async () => {
          throw new Error('store unreachable');
        },
        caNotAfter: () => new Date(Date.now() + 86_400_000),
      }),
    });
    const f = await scrape(metrics);
    assert.ok(Number.isNaN(Number(sample(f, 'certmaster_pending_requests')?.value)));
    assert.equal(sample(f, 'certmaster_certificates_expiring', { within_days: '7' }), undefined);
    assert.equal(value(f, 'certmaster_scrape_errors_total', { source: 'pending' }), 1);
    assert.equal(value(f, 'certmaster_scrape_errors_total', { source: 'expiring' }), 1);
    // The other gauges are still there: a store outage is exactly when they matter.
    assert.ok(value(f, 'certmaster_certificate_expiry_seconds', { certificate: 'ca' }) > 0);
    // No server certificate (plain HTTP behind a proxy): no series, rather than a misleading 0.
    assert.equal(sample(f, 'certmaster_certificate_expiry_seconds', { certificate: 'server' }), undefined);
  });

  it('has its own registry per server, with process metrics, and leaves the global one alone', async () => {
    const a = new Metrics();
    const b = new Metrics();
    a.issued('autosign');
    const fa = await scrape(a);
    const fb = await scrape(b);
    assert.equal(value(fa, 'certmaster_certificates_issued_total', { via: 'autosign' }), 1);
    assert.equal(value(fb, 'certmaster_certificates_issued_total', { via: 'autosign' }), 0);
    assert.ok(fa.has('process_cpu_user_seconds_total'));
    assert.ok(fa.has('nodejs_eventloop_lag_seconds'));
    assert.equal(globalRegistry.getSingleMetric('certmaster_certificates_issued_total'), undefined);
  });
});
