/** Sixteen wrong passwords in flight at once get no more guesses than the free ones. */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, test } from 'node:test';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const PASSWORD = 'correct horse battery staple';
let srv: TestServer;
let agent: https.Agent;
before(async () => {
  srv = await startTestServer({}, { admin: { name: 'admin', password: PASSWORD, digest: false } });
  agent = new https.Agent({ keepAlive: true, ca: srv.caPem, maxSockets: 16 });
});
after(async () => {
  agent.destroy();
  await srv.close();
});

test('concurrent guesses beyond the free failures are refused with 429 before argon2 runs', async () => {
  const basic = (pw: string) => `Basic ${Buffer.from(`admin:${pw}`).toString('base64')}`;
  const replies = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      call(`${srv.url}/v1/whoami`, {
        ca: srv.caPem,
        agent,
        headers: { authorization: basic(`wrong guess number ${i}`) },
      }),
    ),
  );
  const statuses = replies.map((r) => r.status);
  const guessed = statuses.filter((s) => s === 401).length;
  assert.ok(guessed <= 5, `at most the 5 free guesses were checked, got ${guessed} (${statuses.join(',')})`);
  assert.equal(statuses.filter((s) => s === 429).length, 16 - guessed);
  for (const r of replies.filter((x) => x.status === 429)) assert.ok(Number(r.headers['retry-after']) >= 1);
});
