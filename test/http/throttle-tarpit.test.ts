/**
 * Over real HTTPS: once an address is throttled, each 429 is held for auth.throttle_tarpit_ms, so a
 * client that ignores Retry-After and retries at once slows itself down; with the setting at 0 the
 * same flood is answered at once. Only lower bounds on time and upper bounds on answers are asserted,
 * which a busy machine cannot break. The front door's clock stands still, so no delay expires mid-test.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { MovableClock } from '../helpers/clock.js';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const PASSWORD = 'correct horse battery staple';
const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

/** A closed-loop flood of wrong passwords on `connections` connections for `ms`: the answers it got. */
async function flood(
  srv: TestServer,
  agent: https.Agent,
  connections: number,
  ms: number,
): Promise<number[]> {
  const statuses: number[] = [];
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (performance.now() < end) {
        const r = await call(`${srv.url}/v1/whoami`, {
          ca: srv.caPem,
          agent,
          headers: { authorization: basic('admin', `wrong ${n++}`) },
        });
        statuses.push(r.status);
      }
    }),
  );
  return statuses;
}

for (const tarpitMs of [400, 0]) {
  describe(`auth.throttle_tarpit_ms = ${tarpitMs}`, () => {
    let srv: TestServer;
    let agent: https.Agent;
    before(async () => {
      srv = await startTestServer(
        { 'auth.throttle_tarpit_ms': String(tarpitMs) },
        { clock: new MovableClock(Date.now()), admin: { name: 'admin', password: PASSWORD, digest: false } },
      );
      agent = new https.Agent({ keepAlive: true, ca: srv.caPem, maxSockets: 64 });
    });
    after(async () => {
      agent.destroy();
      await srv.close();
    });

    test('throttled answers are 429 with Retry-After, held only when the tarpit is on', async () => {
      // Use up the free failures, so that the next attempt is throttled.
      for (let i = 0; i < 5; i++) {
        await call(`${srv.url}/v1/whoami`, {
          ca: srv.caPem,
          agent,
          headers: { authorization: basic('admin', `x${i}`) },
        });
      }
      const start = performance.now();
      const throttled = await call(`${srv.url}/v1/whoami`, {
        ca: srv.caPem,
        agent,
        headers: { authorization: basic('admin', PASSWORD) },
      });
      const took = performance.now() - start;
      assert.equal(throttled.status, 429, throttled.text);
      assert.ok(Number(throttled.headers['retry-after']) >= 1);
      assert.equal(throttled.json.reason, 'too_many_attempts');
      if (tarpitMs > 0) assert.ok(took >= tarpitMs - 20, `held ${took.toFixed(0)} ms`);

      const statuses = await flood(srv, agent, 8, 1200);
      assert.ok(
        statuses.every((s) => s === 429),
        `all throttled: ${[...new Set(statuses)].join(',')}`,
      );
      if (tarpitMs > 0) {
        // Each connection waits at least the hold per answer: at most 1200/400 + 1 answers each.
        assert.ok(statuses.length <= 8 * 4, `${statuses.length} answers in 1.2 s on 8 connections`);
      } else {
        // Without the tarpit the same flood is answered far faster than the bound above.
        assert.ok(statuses.length > 8 * 4, `${statuses.length} answers in 1.2 s on 8 connections`);
      }
    });
  });
}
