/**
 * `explain ID` of a request whose record was folded into a flood summary: the id carries its time and
 * a tag of its source, and the story is told from the summary of that window, source and reason.
 * Requests over real HTTP to the whole server in process; `certmaster explain` is the real bin.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, test } from 'node:test';
import type { FloodSummarizer } from '../../src/audit/flood-summary.js';
import { readRequestId, TIMED_REQUEST_ID_LENGTH } from '../../src/util/request-id.js';
import { cli, cliAsync } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

let srv: TestServer;
const ids: string[] = [];

function get(path: string): Promise<{ status: number; id: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${srv.url}${path}`, (reply) => {
        reply.resume();
        reply.on('end', () =>
          resolve({ status: reply.statusCode ?? 0, id: String(reply.headers['x-request-id'] ?? '') }),
        );
      })
      .on('error', reject);
  });
}

before(async () => {
  srv = await startTestServer(
    {},
    { plainHttp: true, admin: { name: 'admin', password: 'Quarry-Lantern-Meadow-41', digest: false } },
  );
  const started = Date.now();
  for (let i = 0; i < 40; i++) {
    const reply = await get('/v1/audit');
    assert.equal(reply.status, 401);
    ids.push(reply.id);
  }
  // The window's summary is written when the window closes; flush it now instead of waiting.
  await (srv.instance.auditSink as FloodSummarizer).flush();
  const facts = readRequestId(ids[0] ?? '');
  assert.ok(facts, `a timed id: ${ids[0]}`);
  assert.ok(Math.abs(facts.at.getTime() - started) < 60_000);
});

after(async () => {
  await srv.close();
});

test('request ids carry their time and stay long and random', () => {
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) {
    assert.equal(id.length, TIMED_REQUEST_ID_LENGTH);
    assert.match(id, /^[A-Za-z0-9_-]+$/);
  }
});

test('a request inside a flood summary is explained from the summary', () => {
  // The 6th to 10th summarised ids are kept as a sample; the 30th is found by its time and source only.
  const id = ids[29] ?? '';
  const r = cli(['explain', '--data', srv.dataDir, '--', id]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /is one of 35 refusals of credentials_missing from 127\.0\.0\.1 between \S+ and \S+, summarised \(record #\d+\)/,
  );
  assert.match(r.stdout, /this request has no record of its own/);
  assert.match(r.stdout, /What to do: /);
  const json = JSON.parse(cli(['explain', '--data', srv.dataDir, '--json', '--', id]).stdout) as {
    reason: string;
    records: Array<{ details: Record<string, unknown> }>;
  };
  assert.equal(json.reason, 'credentials_missing');
  assert.equal(json.records[0]?.details.count, 35);
});

test('a request with a record of its own is still told from it', () => {
  const r = cli(['explain', '--data', srv.dataDir, '--', ids[0] ?? '']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /was refused at .* with HTTP 401, reason credentials_missing/);
  assert.doesNotMatch(r.stdout, /summarised/);
});

test('an id of the older shape is still read: no record, no summary, and it says so', () => {
  const old = randomBytes(12).toString('base64url');
  const r = cli(['explain', '--data', srv.dataDir, '--', old]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no audit record has request id/);
  assert.match(r.stderr, /an id of an older release carries no time/);
});

test('a timed id from another source in the same window is not claimed by this summary', () => {
  // Same time as a summarised request, but a tag of no address that was refused.
  const bytes = Buffer.from(ids[29] ?? '', 'base64url');
  bytes[6] = (bytes[6] ?? 0) ^ 0xff;
  const r = cli(['explain', '--data', srv.dataDir, '--', bytes.toString('base64url')]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no flood summary of its time and source holds it/);
});

test('explain --server finds the summary through /v1/audit the same way', async () => {
  const created = cli(['token', 'create', '--scope', 'audit:read', '--json', '--data', srv.dataDir]);
  assert.equal(created.code, 0, created.stderr);
  const token = (JSON.parse(created.stdout) as { token: string }).token;
  const r = await cliAsync([
    'explain',
    '--server',
    srv.url,
    '--token',
    token,
    '--ca-file',
    `${srv.dataDir}/ca/ca.pem`,
    '--',
    ids[29] ?? '',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /is one of 35 refusals of credentials_missing from 127\.0\.0\.1 between/);
});
