/**
 * Fail closed: when the audit log cannot be written, nothing happens and the caller gets 503
 * audit_unavailable, whatever it asked (an issuance, a sign-in, a refusal that would have been a 401).
 * The log is broken for real: a trigger added through a second SQLite connection to the data
 * directory's database makes every insert into audit_events fail, as a full disk would. Dropping the
 * trigger brings everything back, with nothing recorded before lost and the chain intact.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { AuditRecord } from '../../src/audit/types.js';
import { createAccount } from '../../src/auth/accounts.js';
import { tempDir } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';
import {
  assertProblem,
  basicAuthorization,
  type HttpsReply,
  loopbackAddresses,
  send,
} from './front-door-client.js';

const ADMIN = { name: 'chief', password: 'Quarry-Lantern-5521-velvet', digest: false };
const OPERATOR = { name: 'alice', password: 'Tangerine-Orbit-7741-quasar' };
const WRONG_PASSWORD = 'Not-The-Password-4410-juniper';
const BEFORE_CN = 'before.example.com';
const DOWN_CN = 'down.example.com';
const AFTER_RESPONSE_CN = 'half.example.com';

const nextAddress = loopbackAddresses(30);
const tmp = tempDir('audit-fail-closed');
let srv: TestServer;
/** The test's own connection to the server's database, as an operator's sqlite3 shell would be. */
let db: Database.Database;

before(async () => {
  srv = await startTestServer({ 'ra.autosign': 'all' }, { admin: ADMIN });
  await createAccount(srv.frontDoor.accounts, { ...OPERATOR, role: 'operator', digest: false });
  db = new Database(join(srv.dataDir, 'certmaster.db'));
  db.pragma('busy_timeout = 10000');
});

after(async () => {
  db.close();
  await srv.close();
  tmp.remove();
});

function breakAuditLog(when = ''): void {
  db.exec(
    `CREATE TRIGGER no_audit BEFORE INSERT ON audit_events ${when} BEGIN SELECT RAISE(ABORT, 'audit disk full'); END;`,
  );
}

function repairAuditLog(): void {
  db.exec('DROP TRIGGER no_audit');
}

function submit(csrPem: string): Promise<HttpsReply> {
  return send(`${srv.url}/v1/requests`, {
    ca: srv.caPem,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ csr: csrPem }),
    localAddress: nextAddress(),
  });
}

function whoami(password: string, localAddress = nextAddress()): Promise<HttpsReply> {
  return send(`${srv.url}/v1/whoami`, {
    ca: srv.caPem,
    headers: { authorization: basicAuthorization(OPERATOR.name, password) },
    localAddress,
  });
}

function revoke(serial: string): Promise<HttpsReply> {
  return send(`${srv.url}/v1/certificates/${serial}/revoke`, {
    ca: srv.caPem,
    method: 'POST',
    headers: {
      authorization: basicAuthorization(ADMIN.name, ADMIN.password),
      'content-type': 'application/json',
    },
    body: JSON.stringify({ reason: 'keyCompromise' }),
    localAddress: nextAddress(),
  });
}

function requestIdOf(reply: HttpsReply): string {
  const id = reply.headers['x-request-id'];
  assert.equal(typeof id, 'string');
  return id as string;
}

function recordsOf(reply: HttpsReply): Promise<AuditRecord[]> {
  return srv.instance.store.queryAudit({ requestId: requestIdOf(reply) });
}

/** 503 audit_unavailable, with no challenge: another credential would not help. */
function assertAuditUnavailable(reply: HttpsReply): void {
  assertProblem(reply, 503, 'audit_unavailable');
  assert.match(String(reply.json.detail), /audit log/);
  assert.equal(reply.distinct['www-authenticate'], undefined, 'no challenge on a 503');
}

async function hostState(cn: string) {
  const [requests, certificates] = await Promise.all([
    srv.instance.store.listRequests({ commonName: cn }),
    srv.instance.store.listCertificates({ status: 'all', commonName: cn }),
  ]);
  return { requests, certificates };
}

describe('the audit log fails closed', () => {
  const down = opensslCsr(tmp.path, 'down', `/CN=${DOWN_CN}`);
  /** Everything recorded before the log broke, as it was then. */
  let earlier: AuditRecord[] = [];
  let earlierSerial = '';
  const refusedIds: string[] = [];

  test('before: an issuance, a sign-in and a refusal are recorded', async () => {
    const issued = await submit(opensslCsr(tmp.path, 'before', `/CN=${BEFORE_CN}`).csrPem);
    assert.equal(issued.status, 201, issued.text);
    assert.equal(issued.json.state, 'issued');
    earlierSerial = String(issued.json.serial);
    assert.equal((await recordsOf(issued)).length, 2);

    const signedIn = await whoami(OPERATOR.password);
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.equal((await recordsOf(signedIn)).length, 1);

    const refused = await whoami(WRONG_PASSWORD);
    assertProblem(refused, 401, 'credentials_invalid');
    assert.equal((await recordsOf(refused))[0]?.cause, 'password mismatch');

    earlier = await srv.instance.store.queryAudit({ limit: 10_000 });
    assert.ok(earlier.length >= 4);
    assert.equal((await srv.instance.audit.verify()).ok, true);
  });

  test('an anonymous autosigned request answers 503 and nothing is issued', async () => {
    breakAuditLog();
    try {
      const reply = await submit(down.csrPem);
      assertAuditUnavailable(reply);
      refusedIds.push(requestIdOf(reply));
      const state = await hostState(DOWN_CN);
      assert.deepEqual(state.requests, [], 'no request was stored');
      assert.deepEqual(state.certificates, [], 'no certificate was issued');
    } finally {
      repairAuditLog();
    }
  });

  test('a wrong password answers 503, not 401: its refusal cannot be recorded', async () => {
    breakAuditLog();
    try {
      const reply = await whoami(WRONG_PASSWORD);
      assertAuditUnavailable(reply);
      refusedIds.push(requestIdOf(reply));
    } finally {
      repairAuditLog();
    }
  });

  test('an authenticated GET answers 503: its sign-in cannot be recorded', async () => {
    breakAuditLog();
    try {
      const reply = await whoami(OPERATOR.password);
      assertAuditUnavailable(reply);
      assert.equal(reply.json.name, undefined, 'no answer to the question asked');
      refusedIds.push(requestIdOf(reply));
    } finally {
      repairAuditLog();
    }
  });

  test('an operator revocation answers 503 and the certificate stays valid', async () => {
    breakAuditLog();
    try {
      const reply = await revoke(earlierSerial);
      assertAuditUnavailable(reply);
      refusedIds.push(requestIdOf(reply));
      const certificate = await srv.instance.store.getCertificate(earlierSerial);
      assert.equal(certificate?.revokedAt, null, 'not revoked');
    } finally {
      repairAuditLog();
    }
  });

  test('the refused requests left no record, and what was recorded before is intact', async () => {
    for (const requestId of refusedIds) {
      assert.deepEqual(await srv.instance.store.queryAudit({ requestId }), [], requestId);
    }
    const now = await srv.instance.store.queryAudit({ limit: 10_000 });
    assert.deepEqual(now, earlier, 'nothing was added or lost while the log was down');
    assert.equal((await srv.instance.audit.verify()).ok, true);
  });

  test('once the store takes writes again, the same requests work and are recorded', async () => {
    const issued = await submit(down.csrPem);
    assert.equal(issued.status, 201, issued.text);
    assert.equal(issued.json.state, 'issued');
    const submitted = await recordsOf(issued);
    assert.deepEqual(
      submitted.map((r) => [r.kind, r.phase]),
      [
        ['request.submit', 'request'],
        ['request.submit', 'response'],
      ],
    );
    assert.equal(submitted[1]?.details.serial, issued.json.serial);
    assert.equal((await hostState(DOWN_CN)).certificates.length, 1);

    const refused = await whoami(WRONG_PASSWORD);
    assertProblem(refused, 401, 'credentials_invalid');
    assert.equal((await recordsOf(refused))[0]?.cause, 'password mismatch');

    const signedIn = await whoami(OPERATOR.password);
    assert.equal(signedIn.status, 200, signedIn.text);
    assert.equal(signedIn.json.name, OPERATOR.name);
    assert.equal((await recordsOf(signedIn))[0]?.principal, OPERATOR.name);

    const revoked = await revoke(earlierSerial);
    assert.equal(revoked.status, 200, revoked.text);
    assert.notEqual((await srv.instance.store.getCertificate(earlierSerial))?.revokedAt, null);
    const revocation = await recordsOf(revoked);
    assert.deepEqual(
      revocation.map((r) => [r.kind, r.outcome, r.principal]),
      [
        ['auth.attempt', 'success', ADMIN.name],
        ['certificate.revoke', 'success', ADMIN.name],
        ['certificate.revoke', 'success', ADMIN.name],
      ],
    );

    const all = await srv.instance.store.queryAudit({ limit: 10_000 });
    assert.deepEqual(all.slice(0, earlier.length), earlier, 'earlier records are still there, unchanged');
    const verification = await srv.instance.audit.verify();
    assert.equal(verification.ok, true, JSON.stringify(verification));
    if (verification.ok) assert.equal(verification.records, all.length);
  });

  test('when only the outcome cannot be recorded, nothing is issued: the caller gets 503 and a retry issues it', async () => {
    // The record before the action is written; the one after it is not. An autosigned certificate and
    // the record of it are one transaction, so the certificate is not stored either: the caller is not
    // told it succeeded, and nothing exists that the log does not say.
    const half = opensslCsr(tmp.path, 'half', `/CN=${AFTER_RESPONSE_CN}`);
    breakAuditLog("WHEN NEW.phase = 'response'");
    let firstId: string;
    try {
      const reply = await submit(half.csrPem);
      assertAuditUnavailable(reply);
      firstId = requestIdOf(reply);
    } finally {
      repairAuditLog();
    }
    const attempted = await srv.instance.store.queryAudit({ requestId: firstId });
    assert.deepEqual(
      attempted.map((r) => [r.kind, r.phase]),
      [['request.submit', 'request']],
      'the attempt is on record',
    );
    const state = await hostState(AFTER_RESPONSE_CN);
    assert.equal(state.certificates.length, 0, 'no certificate without its record');
    assert.equal(state.requests.length, 0, 'no request without its record');
    const retry = await submit(half.csrPem);
    assert.equal(retry.status, 201, `the same CSR is issued now: ${retry.text}`);
    assert.equal(retry.json.state, 'issued');
    const issued = await recordsOf(retry);
    assert.deepEqual(
      issued.map((r) => [r.kind, r.phase, r.outcome]),
      [
        ['request.submit', 'request', 'success'],
        ['request.submit', 'response', 'success'],
      ],
    );
    assert.equal(issued[1]?.details.serial, retry.json.serial, 'the record names the certificate');
    assert.equal((await hostState(AFTER_RESPONSE_CN)).certificates.length, 1, 'issued once');
    assert.equal((await srv.instance.audit.verify()).ok, true);
  });
});
