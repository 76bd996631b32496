/**
 * Every answer of 400 or more has an audit record under its request id and a story in `explain`
 * (docs/refusals.md): schema validation (400), unknown routes (404), oversized bodies (413), wrong
 * media types (415), OAuth endpoint failures, and the 503 audit_unavailable itself, which goes to the
 * outage file because the log cannot take it. Over real HTTPS to the whole server in process.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { AuditOutageLog } from '../../src/audit/outage-log.js';
import type { AuditRecord } from '../../src/audit/types.js';
import { dataLayout } from '../../src/instance/layout.js';
import {
  auditRecordsFromJson,
  type CommandContext,
  explainRequest,
  renderRequestStory,
  requestStory,
} from '../../src/ops/explain/index.js';
import { cliAsync } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import {
  basicAuthorization,
  type HttpsReply,
  loopbackAddresses,
  postForm,
  send,
} from './front-door-client.js';

const ADMIN = { name: 'chief', password: 'Quarry-Lantern-5521-velvet', digest: false };
const nextAddress = loopbackAddresses(40);
let srv: TestServer;
let ctx: CommandContext;

before(async () => {
  srv = await startTestServer({ 'ra.autosign': 'all' }, { admin: ADMIN });
  ctx = { dataDir: srv.dataDir, server: srv.url };
});
after(async () => {
  await srv.close();
});

function idOf(reply: HttpsReply): string {
  const id = reply.headers['x-request-id'];
  assert.equal(typeof id, 'string');
  return String(id);
}

async function recordsOf(id: string): Promise<AuditRecord[]> {
  return srv.instance.store.queryAudit({ requestId: id, limit: 100 });
}

/** The refusal is recorded, and explain tells it as a refusal with its status, never as a success. */
async function assertRecordedRefusal(reply: HttpsReply, status: number, reason: string): Promise<string> {
  assert.equal(reply.status, status, reply.text);
  assert.equal(reply.json.reason, reason);
  const id = idOf(reply);
  const records = await recordsOf(id);
  const refusal = records.find((r) => r.outcome === 'failure');
  assert.ok(refusal, `a failure record for ${reason}: ${JSON.stringify(records)}`);
  assert.equal(refusal.reason, reason);
  assert.equal(refusal.told?.status, status);
  const story = await explainRequest(srv.instance.store, id, ctx);
  assert.ok(story);
  const text = renderRequestStory(story);
  assert.match(text, new RegExp(`was refused at .* with HTTP ${status}, reason ${reason}`));
  assert.doesNotMatch(text, /succeeded/);
  assert.ok(story.advice, 'an advice');
  return text;
}

describe('front-door refusals are recorded and explained', () => {
  test('404 for a path nothing serves, anonymous and signed in', async () => {
    await assertRecordedRefusal(
      await send(`${srv.url}/v1/nothing-here`, { ca: srv.caPem, localAddress: nextAddress() }),
      404,
      'not_found',
    );
    const signedIn = await send(`${srv.url}/v1/nothing-here`, {
      ca: srv.caPem,
      headers: { authorization: basicAuthorization(ADMIN.name, ADMIN.password) },
      localAddress: nextAddress(),
    });
    const text = await assertRecordedRefusal(signedIn, 404, 'not_found');
    assert.match(text, /authenticated as chief/);
  });

  test('400 for a body that fails the schema', async () => {
    const reply = await send(`${srv.url}/v1/requests`, {
      ca: srv.caPem,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ not_a_csr: true }),
      localAddress: nextAddress(),
    });
    await assertRecordedRefusal(reply, 400, 'invalid_request');
  });

  test('413 for a body over the limit', async () => {
    const reply = await send(`${srv.url}/v1/requests`, {
      ca: srv.caPem,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csr: 'x'.repeat(2 * 1024 * 1024) }),
      localAddress: nextAddress(),
    });
    await assertRecordedRefusal(reply, 413, 'body_too_large');
  });

  test('415 for a body that is not JSON', async () => {
    const reply = await send(`${srv.url}/v1/requests`, {
      ca: srv.caPem,
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
      localAddress: nextAddress(),
    });
    await assertRecordedRefusal(reply, 415, 'unsupported_media_type');
  });

  test('an OAuth token endpoint failure is recorded with the status and what the client was told', async () => {
    const reply = await postForm(`${srv.url}/oauth/token`, srv.caPem, {
      grant_type: 'magic',
      client_id: 'certmaster-cli',
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.json.error, 'unsupported_grant_type');
    const [record] = await recordsOf(String(reply.json.request_id));
    assert.equal(record?.outcome, 'failure');
    assert.equal(record?.told?.status, 400);
    assert.equal(record?.told?.detail, 'this server does not support that grant type');
    assert.equal(record?.clientAddress, '127.0.0.1');
  });
});

describe('503 audit_unavailable', () => {
  test('goes to the outage file, and explain (local and --server) says when the log could not be written', async () => {
    const db = new Database(join(srv.dataDir, 'certmaster.db'));
    db.pragma('busy_timeout = 10000');
    let reply: HttpsReply;
    db.exec(
      `CREATE TRIGGER no_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit disk full'); END;`,
    );
    try {
      reply = await send(`${srv.url}/v1/nothing-here`, { ca: srv.caPem, localAddress: nextAddress() });
    } finally {
      db.exec('DROP TRIGGER no_audit');
      db.close();
    }
    assert.equal(reply.status, 503, reply.text);
    assert.equal(reply.json.reason, 'audit_unavailable');
    const id = idOf(reply);
    assert.deepEqual(await recordsOf(id), [], 'the log could not take it');

    const outage = new AuditOutageLog(dataLayout(srv.dataDir).auditOutage);
    const entry = outage.find(id);
    assert.ok(entry, 'noted in the outage file');
    const local = await explainRequest(srv.instance.store, id, ctx, outage);
    assert.ok(local, 'explain never says "no audit record" for an id this server answered');
    const text = renderRequestStory(local);
    assert.match(text, /HTTP 503, reason audit_unavailable: the audit log could not be written at \d{4}-/);
    assert.match(text, /GET \/v1\/nothing-here/);

    const remote = await send(`${srv.url}/v1/audit?request_id=${encodeURIComponent(id)}`, {
      ca: srv.caPem,
      headers: { authorization: basicAuthorization(ADMIN.name, ADMIN.password) },
      localAddress: nextAddress(),
    });
    assert.equal(remote.status, 200, remote.text);
    const story = requestStory(id, auditRecordsFromJson(remote.json), ctx);
    assert.ok(story);
    assert.match(renderRequestStory(story), /the audit log could not be written at/);
  });
});

describe('certmaster explain takes ids that begin with "-"', () => {
  test('explain -ID --data DIR tells the story (needs npm run build)', async () => {
    const id = '-Zq3xYb0Jz_T8aLm';
    await srv.instance.auditSink.record({
      at: new Date(),
      requestId: id,
      kind: 'http.refused',
      phase: 'decision',
      outcome: 'failure',
      reason: 'not_found',
      principal: 'anonymous',
      claimedName: null,
      method: 'anonymous',
      credentialId: null,
      clientAddress: '127.0.0.1',
      cause: 'no route matches',
      told: { status: 404, detail: 'nothing is served at GET /x', hint: 'see /openapi.json' },
      target: 'GET /x',
      details: {},
    });
    for (const args of [
      ['explain', id, '--data', srv.dataDir],
      ['explain', '--data', srv.dataDir, id],
      ['explain', '--data', srv.dataDir, '--', id],
    ]) {
      const r = await cliAsync(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /was refused at .* with HTTP 404, reason not_found/);
    }
    const bogus = await cliAsync(['explain', '--bogus', '--data', srv.dataDir]);
    assert.equal(bogus.code, 1);
    assert.match(bogus.stderr, /unknown option --bogus/);
  });
});
