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

test('an expired enrollment token refusal names the host, and explain --host finds it', async () => {
  const made = cli(['token', 'create', '--enroll', '*.late.example', '--ttl', '1s', '--data', srv.dataDir]);
  assert.equal(made.code, 0, made.stderr);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const reply = await fetchWith(
    made.stdout.trim(),
    opensslCsr(tmp.path, 'late', '/CN=c.late.example').csrPem,
  );
  assert.equal(reply.status, 401, reply.text);
  assert.equal(reply.json.reason, 'token_expired');

  const explained = cli(['explain', '--host', 'c.late.example', '--data', srv.dataDir]);
  assert.equal(explained.code, 0, explained.stderr);
  assert.doesNotMatch(explained.stdout, /no record/i);
  assert.match(explained.stdout, /token_expired/, explained.stdout);
  assert.match(explained.stdout, /expired/i);
});

test('a CSR that can be read but whose signature is wrong (csr_invalid) is found by the host it asked for', async () => {
  const { csrPem } = opensslCsr(tmp.path, 'forged-sig', '/CN=sig.forged.example');
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  // The signature BIT STRING ends the DER: flipping its last byte keeps the CSR readable.
  der[der.length - 1] = (der[der.length - 1] ?? 0) ^ 0xff;
  const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END CERTIFICATE REQUEST-----\n`;
  const reply = await call(`${srv.url}/v1/requests`, {
    method: 'POST',
    ca: srv.caPem,
    body: JSON.stringify({ csr: forged }),
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(reply.status, 400, reply.text);
  assert.equal(reply.json.reason, 'csr_invalid');

  const explained = cli(['explain', '--host', 'sig.forged.example', '--data', srv.dataDir]);
  assert.equal(explained.code, 0, explained.stderr);
  assert.doesNotMatch(explained.stdout, /no record/i);
  assert.match(explained.stdout, /csr_invalid/, explained.stdout);
});
