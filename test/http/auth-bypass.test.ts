/**
 * The auth hook skips /oauth/ and /.well-known/ (they authenticate clients themselves): no spelling
 * of a path may reach a protected route through that door.
 */
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, test } from 'node:test';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

let srv: TestServer;
let agent: https.Agent;
before(async () => {
  srv = await startTestServer();
  agent = new https.Agent({ keepAlive: true, ca: srv.caPem });
});
after(async () => {
  agent.destroy();
  await srv.close();
});

test('dot segments, encoded slashes and case tricks under /oauth/ never reach a protected route', async () => {
  const tricks = [
    '/oauth/../v1/users',
    '/oauth/%2e%2e/v1/users',
    '/oauth/..%2fv1/users',
    '/.well-known/../v1/whoami',
    '/oauth//../v1/certificates',
    '//v1/users',
    '/V1/users',
  ];
  for (const path of tricks) {
    const reply = await call(`${srv.url}${path}`, { ca: srv.caPem, agent });
    assert.ok(reply.status === 404 || reply.status === 401, `${path} answered ${reply.status}`);
    assert.notEqual(reply.status, 200, path);
  }
  const direct = await call(`${srv.url}/v1/users`, { ca: srv.caPem, agent });
  assert.equal(direct.status, 401, 'the real route still asks for credentials');
});
