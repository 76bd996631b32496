/**
 * When the audit log cannot be written, each refused request is logged once, under its request id:
 * one `audit_unavailable` line, whichever path refused it (front door, RA, OAuth, not found).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import Database from 'better-sqlite3';
import pino from 'pino';
import { initDataDir } from '../../src/instance/init.js';
import { type Instance, openInstance } from '../../src/instance/open.js';
import { startCertmasterServer } from '../../src/instance/server.js';
import { systemClock } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { call } from '../helpers/http.js';

const ADMIN = { name: 'chief', password: 'Quarry-Lantern-5521-velvet', digest: false };
const tmp = tempDir('audit-unavailable-log');
const lines: string[] = [];
let instance: Instance;
let server: Awaited<ReturnType<typeof startCertmasterServer>>;
let db: Database.Database;

before(async () => {
  const dataDir = join(tmp.path, 'data');
  await initDataDir({
    dataDir,
    keyType: 'ec-p256',
    caSubject: 'CN=audit log lines CA',
    caValidityDays: 365,
    serverValidityDays: 30,
    serverNames: [],
    clock: systemClock,
    admin: ADMIN,
  });
  instance = await openInstance(dataDir, { writerThread: true });
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      lines.push(String(chunk));
      callback();
    },
  });
  server = await startCertmasterServer(instance, { host: '127.0.0.1', port: 0, logger: pino({}, sink) });
  // Broken for real, as a full disk would: every insert into the audit log fails.
  db = new Database(join(dataDir, 'certmaster.db'));
  db.exec(
    `CREATE TRIGGER no_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit disk full'); END;`,
  );
});

after(async () => {
  db.close();
  await server.close();
  await instance.close();
  tmp.remove();
});

const basic = (password: string) => `Basic ${Buffer.from(`${ADMIN.name}:${password}`).toString('base64')}`;
const json = { 'content-type': 'application/json' };

const cases: Array<{
  what: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}> = [
  { what: 'a wrong password', path: '/v1/whoami', method: 'GET', headers: { authorization: basic('wrong') } },
  {
    what: 'an unknown enrollment token',
    path: '/v1/requests',
    method: 'POST',
    headers: { ...json, authorization: 'Bearer cmet_unknown' },
    body: '{"csr":"x"}',
  },
  {
    what: 'an RA refusal (a CSR that is not one)',
    path: '/v1/requests',
    method: 'POST',
    headers: { ...json, authorization: basic(ADMIN.password) },
    body: '{"csr":"not a csr"}',
  },
  {
    what: 'an OAuth password grant with a wrong password',
    path: '/oauth/token',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=password&client_id=certmaster-cli&username=${ADMIN.name}&password=wrong`,
  },
  { what: 'a route that does not exist', path: '/v1/nothing-here', method: 'GET', headers: {} },
];

for (const c of cases) {
  test(`${c.what}: one audit_unavailable line, with the request id`, async () => {
    lines.length = 0;
    const reply = await call(`${server.url}${c.path}`, {
      method: c.method,
      ca: instance.ca.certificatePem,
      headers: c.headers,
      ...(c.body !== undefined ? { body: c.body } : {}),
    });
    assert.equal(reply.status, 503, reply.text);
    const requestId = reply.headers['x-request-id'];
    assert.equal(typeof requestId, 'string');
    const outage = lines
      .map((l) => JSON.parse(l) as { reqId?: string; reason?: string; msg?: string })
      .filter((l) => l.reason === 'audit_unavailable' || /audit_unavailable/.test(l.msg ?? ''));
    assert.equal(outage.length, 1, lines.join(''));
    assert.equal(outage[0]?.reqId, requestId);
  });
}
