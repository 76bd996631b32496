/**
 * The SQLite writer thread (src/store/engine/threaded-sqlite-writer.ts): many concurrent writes commit,
 * errors come back as their own classes, and when the thread dies its unanswered writes reject (the audit
 * log then reports itself unavailable) while later writes succeed on a new thread, with nothing that was
 * acknowledged lost.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { AuditUnavailableError } from '../../src/audit/audit-errors.js';
import { GENESIS_HASH, hashAuditRecord } from '../../src/audit/chain.js';
import { auditSigningKey } from '../../src/audit/checkpoint.js';
import { appendAuditEvents } from '../../src/audit/linked-records.js';
import { AuditLog } from '../../src/audit/log.js';
import { storableAuditEvent } from '../../src/audit/storable-event.js';
import type { AuditEvent } from '../../src/audit/types.js';
import type { StoreDatabase } from '../../src/store/certificates/schema.js';
import {
  SerialCollisionError,
  SubmissionRecordError,
  type SubmitOutcome,
} from '../../src/store/certificates/store.js';
import { KyselyCertmasterStore } from '../../src/store/certmaster-store.js';
import {
  CachedSqliteDatabase,
  ImmediateSqliteDialect,
  openSqliteFile,
} from '../../src/store/engine/sqlite-database.js';
import {
  ThreadedSqliteWriter,
  WriterThreadStoppedError,
} from '../../src/store/engine/threaded-sqlite-writer.js';
import { DuplicateError } from '../../src/store/identities/auth-store.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import { auditEvent } from '../audit/events.js';
import { userRecord } from './auth-records.js';
import { autosigned, fixedClock, NOW } from './records.js';

const SUBMIT_OPTIONS = { allowDuplicateCertificates: false, now: NOW } as const;

/** A store as openStore builds it, but holding on to its writer so the test can kill the thread. */
async function storeWithThread(path: string) {
  const database = new CachedSqliteDatabase(openSqliteFile(path));
  const kysely = new Kysely<StoreDatabase>({ dialect: new ImmediateSqliteDialect({ database }) });
  await migrateToLatest(kysely);
  const writer = new ThreadedSqliteWriter(path);
  return { store: new KyselyCertmasterStore(kysely, writer, fixedClock, 'sqlite'), writer };
}

describe('SQLite writer thread', () => {
  let directory: string;
  let count = 0;
  const path = () => join(directory, `store-${++count}.db`);
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'certmaster-writer-thread-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('commits 1,000 concurrent submissions, each with its own serial', async () => {
    const store = await openStore(`sqlite:${path()}`, { clock: fixedClock });
    try {
      const submissions = Array.from({ length: 1000 }, () => autosigned());
      const outcomes = await Promise.all(
        submissions.map(({ request, certificate }) =>
          store.submitRequest(request, certificate, SUBMIT_OPTIONS),
        ),
      );
      assert.ok(outcomes.every((outcome) => outcome.kind === 'created'));
      const serials = new Set(submissions.map(({ certificate }) => certificate.serial));
      assert.equal(serials.size, 1000);
      const stored = await store.listCertificates({ status: 'all', limit: 2000 });
      assert.deepEqual(new Set(stored.map((certificate) => certificate.serial)), serials);
    } finally {
      await store.close();
    }
  });

  it('rebuilds the errors callers tell apart as their own classes, with their fields', async () => {
    const store = await openStore(`sqlite:${path()}`, { clock: fixedClock });
    try {
      const first = autosigned();
      await store.submitRequest(first.request, first.certificate, SUBMIT_OPTIONS);
      const second = autosigned({}, { serial: first.certificate.serial });
      await assert.rejects(
        store.submitRequest(
          { ...second.request, serial: first.certificate.serial },
          second.certificate,
          SUBMIT_OPTIONS,
        ),
        (error: unknown) =>
          error instanceof SerialCollisionError &&
          error.name === 'SerialCollisionError' &&
          error.serial === first.certificate.serial,
      );
      const user = userRecord();
      await store.createUser(user);
      await assert.rejects(
        store.createUser(user),
        (error: unknown) => error instanceof DuplicateError && error.name === 'DuplicateError',
      );
      // A constraint the database enforces: its SQLite code crosses with it.
      const expiresAt = new Date(NOW.getTime() + 60_000);
      await store.acme.createNonce('nonce-1', expiresAt, NOW, 100);
      await assert.rejects(
        store.acme.createNonce('nonce-1', expiresAt, NOW, 100),
        (error: unknown) =>
          error instanceof Error &&
          error.name === 'SqliteError' &&
          'code' in error &&
          error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY',
      );
    } finally {
      await store.close();
    }
  });

  it('rebuilds a submission whose audit record failed as SubmissionRecordError, with its cause', async () => {
    const file = path();
    const store = await openStore(`sqlite:${file}`, { clock: fixedClock });
    const shell = new Database(file);
    try {
      shell.exec(
        "CREATE TRIGGER no_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit disk full'); END",
      );
      const { request, certificate } = autosigned();
      const record = storableAuditEvent(auditEvent({ phase: 'response', outcome: 'success' }));
      await assert.rejects(
        store.submitRequest(request, certificate, { ...SUBMIT_OPTIONS, records: [record] }),
        (error: unknown) =>
          error instanceof SubmissionRecordError &&
          error.cause instanceof Error &&
          error.cause.name === 'SqliteError' &&
          /audit disk full/.test(error.cause.message),
      );
      assert.equal(await store.getCertificate(certificate.serial), null, 'nothing stored');
    } finally {
      shell.close();
      await store.close();
    }
  });

  it('numbers and hashes audit records in the thread as the chain does, from the texts it stores', async () => {
    const store = await openStore(`sqlite:${path()}`, { clock: fixedClock });
    try {
      const events = [auditEvent({ details: { b: [1, 'two'], a: { z: null } } }), auditEvent({ told: null })];
      const [first, second] = await appendAuditEvents(store, events);
      assert.equal(first?.seq, 1);
      assert.equal(first?.hash, hashAuditRecord(GENESIS_HASH, 1, events[0] as AuditEvent));
      assert.equal(second?.hash, hashAuditRecord(first?.hash ?? '', 2, events[1] as AuditEvent));
      assert.deepEqual(await store.queryAudit({}), [first, second]);
    } finally {
      await store.close();
    }
  });

  it('rejects the writes a dying thread had not answered, keeps every acknowledged one, and writes on', async () => {
    const file = path();
    const { store, writer } = await storeWithThread(file);
    const submissions = Array.from({ length: 3000 }, () => autosigned());
    let killed: Promise<void> | null = null;
    const settled = await Promise.allSettled(
      submissions.map(({ request, certificate }, index) => {
        const outcome = store.submitRequest(request, certificate, SUBMIT_OPTIONS);
        // Killed as soon as the first commit has been answered: the thread is then inside later batches.
        if (index === 0) {
          void outcome.then(() => {
            killed = writer.terminateThread();
          });
        }
        return outcome;
      }),
    );
    await killed;
    const acknowledged = settled.filter(
      (result): result is PromiseFulfilledResult<SubmitOutcome> => result.status === 'fulfilled',
    );
    const refused = settled.filter((result) => result.status === 'rejected');
    assert.ok(acknowledged.length >= 1, 'the first commit was answered');
    assert.ok(refused.length >= 1, 'the thread died with writes unanswered');
    for (const result of refused) {
      assert.ok(result.reason instanceof WriterThreadStoppedError, String(result.reason));
    }
    assert.ok(acknowledged.every((result) => result.value.kind === 'created'));

    // Writes go on, on a new thread.
    const later = autosigned();
    assert.equal(
      (await store.submitRequest(later.request, later.certificate, SUBMIT_OPTIONS)).kind,
      'created',
    );
    await store.close();

    const reopened = await openStore(`sqlite:${file}`, { clock: fixedClock, writerThread: false });
    try {
      for (const result of acknowledged) {
        if (result.value.kind !== 'created') continue;
        assert.ok(await reopened.getRequest(result.value.request.id), 'an acknowledged request was lost');
      }
      assert.ok(await reopened.getRequest(later.request.id));
    } finally {
      await reopened.close();
    }
  });

  it('refuses, without sending, a write submitted once the thread is being killed (no answer can race the exit)', async () => {
    const file = path();
    const { store, writer } = await storeWithThread(file);
    try {
      const first = autosigned();
      await store.submitRequest(first.request, first.certificate, SUBMIT_OPTIONS);
      const killed = writer.terminateThread();
      const late = autosigned();
      // Before the fix, this write was posted to the dying thread, which now and then committed and
      // answered it before it exited (CI saw the audit test below get an answer it had to lose).
      await assert.rejects(
        store.submitRequest(late.request, late.certificate, SUBMIT_OPTIONS),
        (error: unknown) =>
          error instanceof WriterThreadStoppedError && /it was terminated/.test(error.message),
      );
      await killed;
      const after = autosigned();
      assert.equal(
        (await store.submitRequest(after.request, after.certificate, SUBMIT_OPTIONS)).kind,
        'created',
      );
      assert.equal(await store.getRequest(late.request.id), null, 'the refused write never reached a thread');
    } finally {
      await store.close();
    }
  });

  it('makes the audit log unavailable (and not ready) while its writes are lost, and available again after', async () => {
    const { store, writer } = await storeWithThread(path());
    const log = new AuditLog({
      store,
      clock: fixedClock,
      signer: auditSigningKey(generateKeyPairSync('ed25519').privateKey),
    });
    try {
      await log.record(auditEvent());
      const lost = log.record(auditEvent());
      // The append is queued but not yet sent: the thread dies before it can answer.
      const killed = writer.terminateThread();
      await assert.rejects(lost, (error: unknown) => error instanceof AuditUnavailableError);
      await killed;
      assert.equal((await log.writable()).ok, false);
      const record = await log.record(auditEvent());
      assert.ok(record.seq >= 2);
      assert.equal((await log.writable()).ok, true);
    } finally {
      await log.close();
      await store.close();
    }
  });
});
