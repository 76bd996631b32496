/** The SDK repeats the server's Certmaster-Token-Expires-In as a warning for tokens it cannot refresh. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiClient } from '../../src/client/api.js';
import { MovableClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const clock = new MovableClock(Date.now());
let srv: TestServer;
before(async () => {
  srv = await startTestServer(
    {},
    { clock, admin: { name: 'admin', password: 'correct horse battery staple', digest: false } },
  );
});
after(async () => srv.close());

async function stderrOf(fn: () => Promise<unknown>): Promise<string> {
  const original = process.stderr.write.bind(process.stderr);
  let captured = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    captured += chunk.toString();
    return true;
  }) as typeof process.stderr.write;
  try {
    await fn();
  } finally {
    process.stderr.write = original;
  }
  return captured;
}

test('an API token in the last fifth of its life is warned about once; earlier it is not', async () => {
  const { token } = await srv.frontDoor.opaqueTokens.create({
    kind: 'api',
    owner: 'admin',
    scopes: ['requests:read'],
    ttlSeconds: 1000,
  });
  const caFile = join(srv.dataDir, 'ca', 'ca.pem');
  writeFileSync(caFile, srv.caPem);
  const api = ApiClient.open(srv.url, { token, caFile });
  try {
    const early = await stderrOf(() => api.call('GET', '/v1/whoami'));
    assert.equal(early, '', 'no warning with most of the lifetime left');
    clock.advance(900);
    const late = await stderrOf(async () => {
      await api.call('GET', '/v1/whoami');
      await api.call('GET', '/v1/whoami');
    });
    assert.match(late, /the token in use expires in 100 seconds; create a new one/);
    assert.equal(late.split('\n').filter(Boolean).length, 1, 'said once, not on every call');
  } finally {
    api.close();
  }
});
