import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, afterEach, describe, it } from 'node:test';
import { type ExpiringItem, type ExpirySources, listExpiring } from '../../src/ops/expiry.js';
import { Metrics } from '../../src/ops/metrics.js';
import {
  type DeliveryOutcome,
  ExpiryNotifier,
  type ExpiryNotifierOptions,
  loadWebhookSettings,
  parseThresholds,
  parseWebhookUrls,
  signBody,
} from '../../src/ops/webhooks/index.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';
import { parseExposition, value } from './prometheus.js';

const DAY_MS = 86_400_000;
const SECRET = Buffer.from('9f1c3a7e5b2d4c6f8a0e1b3d5f7a9c2e', 'utf8');

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real HTTP receiver on 127.0.0.1 that answers with the given statuses in turn (the last one repeats). */
async function receiver(statuses: Array<number | 'hang'>) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      const status = statuses[Math.min(received.length, statuses.length) - 1] ?? 200;
      if (status === 'hang') return;
      res.writeHead(status, { 'content-type': 'text/plain' }).end('thanks');
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/certmaster`);
  return {
    url,
    received,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** An item source over a CA certificate that expires at `notAfter`, listed through listExpiring. */
function caExpiringAt(notAfter: () => Date): ExpirySources {
  return { ca: () => ({ serial: '1a2b', name: 'fleet root CA', notAfter: notAfter() }) };
}

function verifies(r: Received): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', SECRET).update(r.body).digest('hex')}`);
  const given = Buffer.from(String(r.headers['certmaster-signature']));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

function notifier(
  urls: URL[],
  clock: MovableClock,
  sources: ExpirySources,
  extra: Partial<ExpiryNotifierOptions> = {},
): { notifier: ExpiryNotifier; outcomes: DeliveryOutcome[] } {
  const outcomes: DeliveryOutcome[] = [];
  const n = new ExpiryNotifier({
    settings: { urls, secret: SECRET, thresholdsDays: [30, 7, 1] },
    list: (now, withinSeconds) => listExpiring(sources, { now, withinSeconds }),
    clock,
    backoff: { baseMs: 5, maxMs: 20 },
    maxAttempts: 4,
    random: () => 0.5,
    onDelivery: (o) => outcomes.push(o),
    ...extra,
  });
  closers.push(() => n.stop());
  return { notifier: n, outcomes };
}

describe('ExpiryNotifier', () => {
  it('retries a 500, then delivers a signed JSON event once', async () => {
    const hook = await receiver([500, 200]);
    closers.push(hook.close);
    const clock = new MovableClock();
    const expiresAt = new Date(clock.now().getTime() + 20 * DAY_MS);
    const { notifier: n, outcomes } = notifier(
      [hook.url],
      clock,
      caExpiringAt(() => expiresAt),
    );

    assert.equal(await n.tick(), 1);
    await n.idle();
    assert.equal(hook.received.length, 2, 'one failed attempt, one retry');
    assert.deepEqual(outcomes, ['delivered']);
    const [first, second] = hook.received as [Received, Received];
    assert.equal(first.body, second.body);
    assert.equal(second.headers['certmaster-delivery'], first.headers['certmaster-delivery']);
    assert.match(String(second.headers['certmaster-delivery']), /^[0-9a-f-]{36}$/);
    assert.equal(second.headers['content-type'], 'application/json');
    assert.ok(verifies(second), 'the HMAC verifies with the shared secret');
    assert.deepEqual(JSON.parse(second.body), {
      event: 'expiring',
      kind: 'ca',
      id: '1a2b',
      name: 'fleet root CA',
      expires_at: expiresAt.toISOString(),
      seconds_left: 20 * 86_400,
      threshold_days: 30,
    });

    // Same threshold on the next check: nothing new.
    assert.equal(await n.tick(), 0);
    await n.idle();
    assert.equal(hook.received.length, 2);
  });

  it('does not retry a 4xx', async () => {
    const hook = await receiver([400, 200]);
    closers.push(hook.close);
    const clock = new MovableClock();
    const { notifier: n, outcomes } = notifier(
      [hook.url],
      clock,
      caExpiringAt(() => new Date(clock.now().getTime() + 5 * DAY_MS)),
    );
    assert.equal(await n.tick(), 1);
    await n.idle();
    assert.equal(hook.received.length, 1);
    assert.deepEqual(outcomes, ['failed']);
  });

  it('gives up after the last attempt when the receiver keeps failing', async () => {
    const hook = await receiver([503]);
    closers.push(hook.close);
    const clock = new MovableClock();
    const { notifier: n, outcomes } = notifier(
      [hook.url],
      clock,
      caExpiringAt(() => new Date(clock.now().getTime() + DAY_MS)),
      { maxAttempts: 3 },
    );
    await n.tick();
    await n.idle();
    assert.equal(hook.received.length, 3);
    assert.deepEqual(outcomes, ['failed']);
  });

  it('retries when a receiver does not answer within the timeout', async () => {
    const hook = await receiver(['hang', 200]);
    closers.push(hook.close);
    const clock = new MovableClock();
    const { notifier: n, outcomes } = notifier(
      [hook.url],
      clock,
      caExpiringAt(() => new Date(clock.now().getTime() + DAY_MS)),
      { timeoutMs: 200 },
    );
    await n.tick();
    await n.idle();
    assert.equal(hook.received.length, 2);
    assert.deepEqual(outcomes, ['delivered']);
  });

  it('announces each threshold once as the clock moves, the tightest one crossed only', async () => {
    const hook = await receiver([200]);
    closers.push(hook.close);
    const clock = new MovableClock();
    const expiresAt = new Date(clock.now().getTime() + 40 * DAY_MS);
    const { notifier: n } = notifier(
      [hook.url],
      clock,
      caExpiringAt(() => expiresAt),
    );
    const thresholds = () =>
      hook.received.map((r) => (JSON.parse(r.body) as { threshold_days: number }).threshold_days);

    assert.equal(await n.tick(), 0); // 40 days out: nothing yet
    clock.advance(15 * 86_400); // 25 days left
    assert.equal(await n.tick(), 1);
    await n.idle();
    clock.advance(86_400);
    assert.equal(await n.tick(), 0);
    clock.advance(23 * 86_400 + 43_200); // half a day left: 7 and 1 crossed since the last check
    assert.equal(await n.tick(), 1);
    await n.idle();
    clock.advance(86_400); // expired: no threshold left to announce
    assert.equal(await n.tick(), 0);
    await n.idle();
    assert.deepEqual(thresholds(), [30, 1]);
  });

  it('announces again once an item left the listing and came back (renewed, then expiring anew)', async () => {
    const hook = await receiver([200]);
    closers.push(hook.close);
    const clock = new MovableClock();
    let expiresAt = new Date(clock.now().getTime() + 3 * DAY_MS);
    const { notifier: n } = notifier(
      [hook.url],
      clock,
      caExpiringAt(() => expiresAt),
    );
    assert.equal(await n.tick(), 1);
    expiresAt = new Date(clock.now().getTime() + 365 * DAY_MS);
    assert.equal(await n.tick(), 0);
    clock.advance(360 * 86_400);
    assert.equal(await n.tick(), 1);
    await n.idle();
    assert.equal(hook.received.length, 2);
  });

  it('sends one delivery per URL, and drops beyond the queue limit rather than grow', async () => {
    const a = await receiver(['hang']);
    const b = await receiver([200]);
    closers.push(a.close, b.close);
    const clock = new MovableClock();
    const items: ExpiringItem[] = [];
    const { notifier: n, outcomes } = notifier(
      [a.url, b.url],
      clock,
      {},
      {
        list: async () => items,
        queueLimit: 2,
        concurrency: 1,
        timeoutMs: 60_000,
      },
    );
    for (let i = 0; i < 3; i++) {
      items.push({
        kind: 'certificate',
        id: `0${i}`,
        name: `host${i}`,
        expiresAt: new Date(clock.now().getTime() + DAY_MS),
        secondsLeft: 86_400,
      });
    }
    assert.equal(await n.tick(), 2);
    assert.deepEqual(outcomes, ['dropped', 'dropped', 'dropped', 'dropped']);
  });

  it('stops: waiting retries are abandoned and idle() settles', async () => {
    const hook = await receiver([500]);
    closers.push(hook.close);
    const clock = new MovableClock();
    let retryScheduled: () => void = () => undefined;
    const scheduled = new Promise<void>((done) => {
      retryScheduled = done;
    });
    const { notifier: n, outcomes } = notifier(
      [hook.url],
      clock,
      caExpiringAt(() => new Date(clock.now().getTime() + DAY_MS)),
      {
        backoff: { baseMs: 3_600_000, maxMs: 3_600_000 },
        maxAttempts: 5,
        logger: {
          warn: () => undefined,
          info: (_obj, msg) => {
            if (msg === 'webhook retry scheduled') retryScheduled();
          },
        },
      },
    );
    await n.tick();
    const idle = n.idle();
    await scheduled;
    n.stop();
    await idle;
    assert.equal(hook.received.length, 1);
    assert.deepEqual(outcomes, []);
    assert.equal(await n.tick(), 0, 'a stopped notifier queues nothing');
  });

  it('feeds the webhook delivery counter', async () => {
    const hook = await receiver([200]);
    closers.push(hook.close);
    const metrics = new Metrics({ processMetrics: false });
    const clock = new MovableClock();
    const { notifier: n } = notifier(
      [hook.url],
      clock,
      caExpiringAt(() => new Date(clock.now().getTime() + DAY_MS)),
      { onDelivery: (o) => metrics.webhookDelivery(o) },
    );
    await n.tick();
    await n.idle();
    const families = parseExposition((await metrics.exposition()).text);
    assert.equal(value(families, 'certmaster_webhook_deliveries_total', { outcome: 'delivered' }), 1);
  });
});

describe('webhook settings', () => {
  const tmp = tempDir('webhooks');
  after(() => tmp.remove());

  it('signs the exact body bytes with HMAC-SHA256', () => {
    assert.equal(
      signBody(Buffer.from('key'), 'The quick brown fox jumps over the lazy dog'),
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
  });

  it('parses URLs and thresholds, refusing what would misbehave', () => {
    assert.deepEqual(parseWebhookUrls(' https://hooks.example.com/a ,http://10.0.0.5:9000/b').map(String), [
      'https://hooks.example.com/a',
      'http://10.0.0.5:9000/b',
    ]);
    assert.deepEqual(parseWebhookUrls(''), []);
    assert.throws(() => parseWebhookUrls('file:///etc/passwd'), /must start with https:\/\/ or http:\/\//);
    assert.throws(() => parseWebhookUrls('not a url'), /is not a URL/);
    assert.throws(() => parseWebhookUrls(Array(11).fill('https://x.example/').join(',')), /at most 10/);
    assert.deepEqual(parseThresholds('1, 30,7'), [30, 7, 1]);
    assert.throws(() => parseThresholds('7,x'), /whole numbers/);
    assert.throws(() => parseThresholds(''), /whole numbers/);
  });

  it('is off without URLs, and fails closed without a usable key', () => {
    const section = { urls: '', secret_file: 'secrets/webhook.key', thresholds_days: '30,7,1' };
    assert.equal(loadWebhookSettings(section, tmp.path), null);
    const withUrl = { ...section, urls: 'https://hooks.example.com/cm' };
    assert.throws(() => loadWebhookSettings(withUrl, tmp.path), /cannot be read \(ENOENT\); create it with/);
    writeFileSync(join(tmp.path, 'short.key'), 'abc\n');
    assert.throws(
      () => loadWebhookSettings({ ...withUrl, secret_file: 'short.key' }, tmp.path),
      /shorter than 16 bytes/,
    );
    writeFileSync(join(tmp.path, 'good.key'), `${SECRET.toString('utf8')}\n`);
    const settings = loadWebhookSettings({ ...withUrl, secret_file: 'good.key' }, tmp.path);
    assert.deepEqual(settings?.secret, SECRET);
    assert.deepEqual(settings?.thresholdsDays, [30, 7, 1]);
    assert.equal(settings?.urls[0]?.href, 'https://hooks.example.com/cm');
  });
});
