/**
 * What an issuance leaves in the audit log, and when. Without triggers, the request's record, the
 * certificate and the success record are one transaction; with a pre trigger, the request's record is
 * durable before the trigger runs (a trigger is an action of its own), whatever the trigger then does.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord } from '../../src/audit/types.js';
import { tempDir } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';
import { type HttpsReply, send } from './front-door-client.js';

const tmp = tempDir('issuance-records');
let srv: TestServer;

before(async () => {
  srv = await startTestServer({ 'ra.autosign': 'all' });
});

after(async () => {
  await srv.close();
  tmp.remove();
});

function submit(csrPem: string): Promise<HttpsReply> {
  return send(`${srv.url}/v1/requests`, {
    ca: srv.caPem,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ csr: csrPem }),
  });
}

async function recordsOf(reply: HttpsReply): Promise<AuditRecord[]> {
  const requestId = reply.headers['x-request-id'];
  assert.equal(typeof requestId, 'string');
  return srv.instance.store.queryAudit({ requestId: requestId as string });
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let waited = 0; !condition(); waited += 20) {
    if (waited > 10_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the audit records of an issuance', () => {
  test('without triggers: the request, then its success naming the serial, next to each other', async () => {
    const reply = await submit(opensslCsr(tmp.path, 'plain', '/CN=plain.example.com').csrPem);
    assert.equal(reply.status, 201, reply.text);
    const records = await recordsOf(reply);
    assert.deepEqual(
      records.map((r) => [r.kind, r.phase, r.outcome]),
      [
        ['request.submit', 'request', 'success'],
        ['request.submit', 'response', 'success'],
      ],
    );
    assert.equal(records[1]?.seq, (records[0]?.seq ?? 0) + 1, 'written together');
    assert.equal(records[1]?.details.serial, reply.json.serial);
    assert.equal(records[1]?.target, 'plain.example.com');
    assert.equal((await srv.instance.audit.verify()).ok, true);
  });

  test('with a pre trigger: the request is on record while the trigger runs', async () => {
    const out = join(tmp.path, 'trigger-out');
    mkdirSync(out, { recursive: true });
    const script = join(srv.dataDir, 'triggers', 'request', 'pre', '10-hold');
    mkdirSync(join(script, '..'), { recursive: true });
    // Holds the request until the test says go (at most 10 s), so the test can look at the log meanwhile.
    writeFileSync(
      script,
      `#!/bin/sh\ntouch '${out}/started'\ni=0\nwhile [ ! -f '${out}/go' ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done\n`,
    );
    chmodSync(script, 0o755);
    // The runner remembers an empty trigger directory for a second.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const pending = submit(opensslCsr(tmp.path, 'held', '/CN=held.example.com').csrPem);
    await until(() => existsSync(join(out, 'started')), 'the trigger to start');
    const newest = await srv.instance.store.queryAudit({ newestFirst: true, limit: 5 });
    const held = newest.find((r) => r.kind === 'request.submit');
    assert.ok(held, 'a record of the submission exists while its trigger runs');
    assert.equal(held.phase, 'request');
    writeFileSync(join(out, 'go'), '');
    const reply = await pending;
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.headers['x-request-id'], held.requestId, 'the record was this request');
    const records = await recordsOf(reply);
    assert.deepEqual(
      records.map((r) => [r.seq, r.phase]),
      [
        [held.seq, 'request'],
        [records[1]?.seq, 'response'],
      ],
    );
    assert.equal(records[1]?.details.serial, reply.json.serial);
    assert.equal((await srv.instance.audit.verify()).ok, true);
  });
  test('with a vetoing pre trigger: the request and its refusal, each once, and nothing stored', async () => {
    // After the test above: its trigger (10-hold) finds its go file and ends at once; this one vetoes.
    const script = join(srv.dataDir, 'triggers', 'request', 'pre', '20-veto');
    writeFileSync(script, "#!/bin/sh\necho 'not in the inventory' >&2\nexit 1\n");
    chmodSync(script, 0o755);
    const reply = await submit(opensslCsr(tmp.path, 'vetoed', '/CN=vetoed.example.com').csrPem);
    assert.equal(reply.status, 403, reply.text);
    assert.equal(reply.json.reason, 'request_vetoed');
    const records = await recordsOf(reply);
    assert.deepEqual(
      records.map((r) => [r.kind, r.phase, r.outcome, r.reason]),
      [
        ['request.submit', 'request', 'success', null],
        ['request.submit', 'response', 'failure', 'request_vetoed'],
      ],
    );
    assert.deepEqual(await srv.instance.store.listRequests({ commonName: 'vetoed.example.com' }), []);
    assert.equal((await srv.instance.audit.verify()).ok, true);
  });
});
