/**
 * Bursts of 64 and 256 parallel guesses over real HTTPS: after the free failures, at most one
 * password verification per expired delay, per (account, address) and per address; while
 * throttled, the right password is answered 429 like any wrong one (no status or timing oracle).
 * Verifications are counted by the server's own password hasher. The server's clock stands still
 * (delays expire only when the test moves it), so a slow burst cannot see a delay expire mid-way.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, test } from 'node:test';
import { MovableClock } from '../helpers/clock.js';
import { call, type Reply } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const PASSWORD = 'correct horse battery staple';
const FREE = 5;
const clock = new MovableClock(Date.now());
let srv: TestServer;
let agent: https.Agent;
before(async () => {
  srv = await startTestServer({}, { clock, admin: { name: 'admin', password: PASSWORD, digest: false } });
  agent = new https.Agent({ keepAlive: true, ca: srv.caPem, maxSockets: 256 });
});
after(async () => {
  agent.destroy();
  await srv.close();
});

const basic = (user: string, pw: string) => `Basic ${Buffer.from(`${user}:${pw}`).toString('base64')}`;

async function burst(
  n: number,
  header: (i: number) => string,
): Promise<{ replies: Reply[]; verified: number }> {
  const before = srv.frontDoor.hasher.verifications;
  const replies = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      call(`${srv.url}/v1/whoami`, { ca: srv.caPem, agent, headers: { authorization: header(i) } }),
    ),
  );
  return { replies, verified: srv.frontDoor.hasher.verifications - before };
}

function statuses(replies: Reply[]): string {
  const counts = new Map<number, number>();
  for (const r of replies) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  return [...counts].map(([s, c]) => `${s}x${c}`).join(' ');
}

test('parallel guesses at one account: the free ones, then one verification per expired delay', async () => {
  // The right password, verified once, is now in the hasher's cache: it must still get 429 below.
  const ok = await call(`${srv.url}/v1/whoami`, {
    ca: srv.caPem,
    agent,
    headers: { authorization: basic('admin', PASSWORD) },
  });
  assert.equal(ok.status, 200);

  const first = await burst(64, (i) => basic('admin', `wrong guess ${i}`));
  assert.ok(
    first.verified <= FREE,
    `at most ${FREE} verified, got ${first.verified}: ${statuses(first.replies)}`,
  );
  assert.equal(first.replies.filter((r) => r.status === 401).length, first.verified);
  assert.equal(
    first.replies.filter((r) => r.status === 429).length,
    64 - first.verified,
    statuses(first.replies),
  );

  // While throttled, the right password is refused like a wrong one.
  const right = await call(`${srv.url}/v1/whoami`, {
    ca: srv.caPem,
    agent,
    headers: { authorization: basic('admin', PASSWORD) },
  });
  assert.equal(right.status, 429);
  assert.equal(right.json.reason, 'too_many_attempts');

  // Each expired delay buys one verification, however many guesses arrive together.
  let delayMs = 1000;
  for (const n of [64, 256]) {
    clock.advance(delayMs / 1000);
    const next = await burst(n, (i) => basic('admin', `another guess ${n} ${i}`));
    assert.equal(next.verified, 1, `one verification for ${n} parallel guesses (${statuses(next.replies)})`);
    assert.equal(next.replies.filter((r) => r.status === 429).length, n - 1, statuses(next.replies));
    delayMs *= 2;
  }
});

test('parallel guesses at many accounts from one address are bounded by the address', async () => {
  const otherClock = new MovableClock(Date.now());
  const other = await startTestServer(
    {},
    { clock: otherClock, admin: { name: 'admin', password: PASSWORD, digest: false } },
  );
  const otherAgent = new https.Agent({ keepAlive: true, ca: other.caPem, maxSockets: 256 });
  try {
    const spray = async (n: number, tag: string) => {
      const before = other.frontDoor.hasher.verifications;
      const replies = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          call(`${other.url}/v1/whoami`, {
            ca: other.caPem,
            agent: otherAgent,
            headers: { authorization: basic(`user${tag}${i}`, 'some guess') },
          }),
        ),
      );
      return { replies, verified: other.frontDoor.hasher.verifications - before };
    };
    const first = await spray(64, 'a');
    assert.ok(first.verified <= FREE, `at most ${FREE} verified, got ${first.verified}`);
    otherClock.advance(1);
    const second = await spray(256, 'b');
    assert.equal(second.verified, 1, `${first.verified} then ${statuses(second.replies)}`);
  } finally {
    otherAgent.destroy();
    await other.close();
  }
});
