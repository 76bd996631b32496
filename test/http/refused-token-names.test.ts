/**
 * A submission refused at the front door for its enrollment token (used up, expired) still records
 * the names its CSR asked for, so `certmaster explain --host NAME` finds the refusal instead of
 * answering that it has no record of the host.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { cli, tempDir } from '../helpers/cli.js';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';

const tmp = tempDir('refused-token-names');
let srv: TestServer;

before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv.close();
  tmp.remove();
});

async function fetchWith(token: string, csrPem: string) {
  return call(`${srv.url}/v1/requests`, {
    method: 'POST',
    ca: srv.caPem,
    body: JSON.stringify({ csr: csrPem }),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  });
}

test('a used-up enrollment token refusal names the host, and explain --host finds it', async () => {
  const made = cli(['token', 'create', '--enroll', '*.spent.example', '--uses', '1', '--data', srv.dataDir]);
  assert.equal(made.code, 0, made.stderr);
  const token = made.stdout.trim();
  const first = await fetchWith(token, opensslCsr(tmp.path, 'a', '/CN=a.spent.example').csrPem);
  assert.equal(first.status, 201, first.text);
  const second = await fetchWith(token, opensslCsr(tmp.path, 'b', '/CN=b.spent.example').csrPem);
  assert.equal(second.status, 401, second.text);
  assert.equal(second.json.reason, 'enrollment_token_used_up');

  const records = await srv.instance.store.queryAudit({ requestId: String(second.json.request_id) });
  const refusal = records.find((r) => r.reason === 'enrollment_token_used_up');
  assert.ok(refusal, JSON.stringify(records));
  assert.deepEqual(refusal.details.names, ['b.spent.example']);

  const explained = cli(['explain', '--host', 'b.spent.example', '--data', srv.dataDir]);
  assert.equal(explained.code, 0, explained.stderr);
  assert.doesNotMatch(explained.stdout, /no record/i);
  assert.match(explained.stdout, /enrollment token/i, explained.stdout);
});

test('a body whose CSR cannot be read is refused as before, with no names recorded', async () => {
  const reply = await fetchWith('cmet_not-a-token', 'not a csr');
  assert.equal(reply.status, 401, reply.text);
  const records = await srv.instance.store.queryAudit({ requestId: String(reply.json.request_id) });
  assert.ok(records.length > 0);
  for (const r of records) assert.equal(r.details.names, undefined);
});
