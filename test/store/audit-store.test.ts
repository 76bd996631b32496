import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Kysely, Migrator, PostgresDialect } from 'kysely';
import pg from 'pg';
import { GENESIS_HASH, hashAuditRecord } from '../../src/audit/chain.js';
import { type AuditSigningKey, auditSigningKey, signCheckpoint } from '../../src/audit/checkpoint.js';
import { appendAuditEvents } from '../../src/audit/linked-records.js';
import type { AuditEvent, AuditRecord } from '../../src/audit/types.js';
import type { StoreDatabase } from '../../src/store/certificates/schema.js';
import {
  CachedSqliteDatabase,
  ImmediateSqliteDialect,
  openSqliteFile,
} from '../../src/store/engine/sqlite-database.js';
import { userToRow } from '../../src/store/identities/auth-schema.js';
import {
  LATEST_SCHEMA_VERSION,
  MIGRATION_LOCK_TABLE,
  MIGRATION_TABLE,
  MIGRATIONS,
} from '../../src/store/migrations/index.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { auditEvent, EVENT_TIME, secondsAfter } from '../audit/events.js';
import { userRecord } from './auth-records.js';
import { allBackends } from './backends.js';
import { fixedClock, NOW, pendingRequest } from './records.js';

const key: AuditSigningKey = auditSigningKey(generateKeyPairSync('ed25519').privateKey);

function withoutChain(record: AuditRecord): AuditEvent {
  const { seq: _seq, prevHash: _prevHash, hash: _hash, ...event } = record;
  return event;
}

for (const backend of allBackends()) {
  describe(`audit store on ${backend.name}`, () => {
    let url: string;
    let store: CertmasterStore;
    const others: CertmasterStore[] = [];

    async function another(): Promise<CertmasterStore> {
      const opened = await openStore(url, { clock: fixedClock });
      others.push(opened);
      return opened;
    }

    before(() => backend.setUp());
    after(() => backend.tearDown());
    /** An empty database migrated only as far as an older release went. */
    async function freshOlderDatabase(lastMigration: string): Promise<Kysely<StoreDatabase>> {
      url = await backend.freshUrl();
      const db = url.startsWith('sqlite:')
        ? new Kysely<StoreDatabase>({
            dialect: new ImmediateSqliteDialect({
              database: new CachedSqliteDatabase(openSqliteFile(url.slice('sqlite:'.length))),
            }),
          })
        : new Kysely<StoreDatabase>({
            dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
          });
      const migrator = new Migrator({
        db,
        provider: { getMigrations: async () => MIGRATIONS },
        migrationTableName: MIGRATION_TABLE,
        migrationLockTableName: MIGRATION_LOCK_TABLE,
      });
      const { error } = await migrator.migrateTo(lastMigration);
      assert.equal(error, undefined);
      return db;
    }

    beforeEach(async () => {
      url = await backend.freshUrl();
      store = await openStore(url, { clock: fixedClock });
    });
    afterEach(async () => {
      await store.close();
      for (const opened of others.splice(0)) {
        await opened.close();
      }
    });

    it('upgrades a version 2 database to the current version, keeping its accounts', async () => {
      await store.close();
      const older = await freshOlderDatabase('0002_auth');
      const user = userRecord();
      await older.insertInto('users').values(userToRow(user)).execute();
      await older.destroy();

      store = await openStore(url, { clock: fixedClock });
      assert.deepEqual(await store.health(), { ok: true, schemaVersion: LATEST_SCHEMA_VERSION });
      assert.deepEqual(await store.getUser(user.name), user);
      const [record] = await appendAuditEvents(store, [
        auditEvent({ kind: 'user.change', target: user.name }),
      ]);
      assert.equal(record?.seq, 1);
    });

    it('numbers records from 1 and chains each to the one before, starting at genesis', async () => {
      const events = [auditEvent(), auditEvent({ kind: 'request.submit', outcome: 'success' })];
      const records = await appendAuditEvents(store, events);
      assert.deepEqual(
        records.map((record) => record.seq),
        [1, 2],
      );
      assert.equal(records[0]?.prevHash, GENESIS_HASH);
      assert.equal(records[0]?.hash, hashAuditRecord(GENESIS_HASH, 1, events[0]!));
      assert.equal(records[1]?.prevHash, records[0]?.hash);
      assert.deepEqual(records.map(withoutChain), events);

      const more = await appendAuditEvents(store, [auditEvent()]);
      assert.equal(more[0]?.seq, 3);
      assert.equal(more[0]?.prevHash, records[1]?.hash);
    });

    it('reads back exactly what it returned from the append', async () => {
      const records = await appendAuditEvents(store, [
        auditEvent({ told: null, details: {}, cause: null, reason: null }),
        auditEvent({ details: { nested: { b: 1, a: [true, null, 'x'] }, ünï: 'çødé' } }),
      ]);
      assert.deepEqual(await store.queryAudit({}), records);
      assert.deepEqual(await store.auditHead(), records[1]);
      assert.deepEqual(await store.auditRange(2, 2, 10), [records[1]]);
      assert.deepEqual(await store.auditRange(1, 100, 1), [records[0]]);
    });

    it('stores what a client may put in a claimed name, and details of any JSON-able value, verifiably', async () => {
      const [record] = await appendAuditEvents(store, [
        auditEvent({
          claimedName: 'mal\u0000lory\uD800',
          cause: 'ok \uD83D\uDE00',
          details: {
            when: new Date(0),
            nul: 'a\u0000b',
            lone: '\uDC00',
            big: Number.MAX_SAFE_INTEGER,
            skip: undefined,
          },
        }),
      ]);
      assert.equal(record?.claimedName, 'mal\uFFFDlory\uFFFD');
      assert.equal(record?.cause, 'ok \uD83D\uDE00');
      const [stored] = await store.queryAudit({});
      assert.ok(stored !== undefined && record !== undefined);
      assert.equal(stored.claimedName, record.claimedName);
      assert.deepEqual(stored.details, {
        when: '1970-01-01T00:00:00.000Z',
        nul: 'a\u0000b',
        lone: '\uDC00',
        big: Number.MAX_SAFE_INTEGER,
      });
      assert.equal(hashAuditRecord(stored.prevHash, stored.seq, stored), stored.hash);
      assert.equal(stored.hash, record.hash);
    });

    it('answers an empty log', async () => {
      assert.equal(await store.auditHead(), null);
      assert.deepEqual(await store.queryAudit({}), []);
      assert.deepEqual(await store.auditRange(1, 10, 10), []);
      assert.deepEqual(await store.listAuditCheckpoints(), []);
      assert.deepEqual(await appendAuditEvents(store, []), []);
    });

    it('filters by each field, oldest first unless asked newest first', async () => {
      const events = [
        auditEvent({
          principal: 'alice',
          reason: null,
          outcome: 'success',
          kind: 'request.submit',
          target: 'a.example.com',
        }),
        auditEvent({ principal: 'bob', reason: 'forbidden', kind: 'authz.refused', target: 'b.example.com' }),
        auditEvent({
          at: secondsAfter(EVENT_TIME, 60),
          principal: 'alice',
          reason: 'name_not_allowed',
          kind: 'request.submit',
          target: 'b.example.com',
        }),
        auditEvent({ at: secondsAfter(EVENT_TIME, 120), principal: null, reason: 'credentials_invalid' }),
      ];
      const [a, b, c, d] = await appendAuditEvents(store, events);
      assert.ok(a && b && c && d);
      const seqs = async (filter: Parameters<CertmasterStore['queryAudit']>[0]) =>
        (await store.queryAudit(filter)).map((record) => record.seq);

      assert.deepEqual(await seqs({ principal: 'alice' }), [a.seq, c.seq]);
      assert.deepEqual(await seqs({ requestId: b.requestId }), [b.seq]);
      assert.deepEqual(await seqs({ outcome: 'success' }), [a.seq]);
      assert.deepEqual(await seqs({ outcome: 'failure' }), [b.seq, c.seq, d.seq]);
      assert.deepEqual(await seqs({ reason: 'name_not_allowed' }), [c.seq]);
      assert.deepEqual(await seqs({ kind: 'request.submit' }), [a.seq, c.seq]);
      assert.deepEqual(await seqs({ target: 'b.example.com' }), [b.seq, c.seq]);
      assert.deepEqual(await seqs({ afterSeq: b.seq }), [c.seq, d.seq]);
      assert.deepEqual(await seqs({ since: secondsAfter(EVENT_TIME, 60) }), [c.seq, d.seq]);
      assert.deepEqual(await seqs({ until: secondsAfter(EVENT_TIME, 60) }), [a.seq, b.seq]);
      assert.deepEqual(
        await seqs({ since: secondsAfter(EVENT_TIME, 1), until: secondsAfter(EVENT_TIME, 121) }),
        [c.seq, d.seq],
      );
      assert.deepEqual(await seqs({ principal: 'alice', target: 'b.example.com' }), [c.seq]);
      assert.deepEqual(await seqs({ newestFirst: true }), [d.seq, c.seq, b.seq, a.seq]);
      assert.deepEqual(await seqs({ newestFirst: true, limit: 2 }), [d.seq, c.seq]);
      assert.deepEqual(await seqs({ limit: 1 }), [a.seq]);
      assert.deepEqual(await seqs({ principal: 'carol' }), []);
    });

    it('returns at most 1000 records by default and never more than 10,000', async () => {
      const events = Array.from({ length: 1500 }, () => auditEvent());
      await appendAuditEvents(store, events);
      assert.equal((await store.queryAudit({})).length, 1000);
      assert.equal((await store.queryAudit({ limit: 1200 })).length, 1200);
      assert.equal((await store.queryAudit({ limit: 1_000_000 })).length, 1500);
      await assert.rejects(store.queryAudit({ limit: 0 }), RangeError);
      await assert.rejects(store.queryAudit({ limit: 1.5 }), RangeError);
      await assert.rejects(store.auditRange(1, 10, -1), RangeError);
    });

    it('refuses an event it cannot store, writing none of its batch', async () => {
      const bad = { ...auditEvent(), kind: 'nonsense' } as unknown as AuditEvent;
      await assert.rejects(appendAuditEvents(store, [auditEvent(), bad]), TypeError);
      await assert.rejects(appendAuditEvents(store, [auditEvent({ cause: 'x'.repeat(5000) })]), RangeError);
      await assert.rejects(
        appendAuditEvents(store, [auditEvent({ details: { blob: 'x'.repeat(70_000) } })]),
        RangeError,
      );
      assert.equal(await store.auditHead(), null);
    });

    it('stores checkpoints once, only of records in the log', async () => {
      const [first, second] = await appendAuditEvents(store, [auditEvent(), auditEvent()]);
      assert.ok(first && second);
      const checkpoint = signCheckpoint(key, second.seq, second.hash, EVENT_TIME, null);
      await store.addAuditCheckpoint(checkpoint);
      await store.addAuditCheckpoint(checkpoint);
      assert.deepEqual(await store.listAuditCheckpoints(), [checkpoint]);
      await assert.rejects(
        store.addAuditCheckpoint(signCheckpoint(key, first.seq, second.hash, EVENT_TIME, null)),
        /hash is not that of record 1/,
      );
      await assert.rejects(
        store.addAuditCheckpoint(signCheckpoint(key, 9, second.hash, EVENT_TIME, null)),
        /record 9, which is not in the log/,
      );
      assert.equal((await store.listAuditCheckpoints()).length, 1);
    });

    it('prunes behind a checkpoint and continues the chain from it, even when nothing is left', async () => {
      const records = await appendAuditEvents(
        store,
        Array.from({ length: 5 }, () => auditEvent()),
      );
      const third = records[2]!;
      const periodic = signCheckpoint(key, 2, records[1]!.hash, EVENT_TIME, null);
      await store.addAuditCheckpoint(periodic);
      const prune = signCheckpoint(key, third.seq, third.hash, EVENT_TIME, third.seq + 1);
      assert.equal(await store.pruneAudit(prune), 3);
      assert.deepEqual(
        (await store.queryAudit({})).map((record) => record.seq),
        [4, 5],
      );
      // The periodic checkpoint of a removed record goes with it.
      assert.deepEqual(await store.listAuditCheckpoints(), [prune]);

      const last = records[4]!;
      const all = signCheckpoint(key, last.seq, last.hash, EVENT_TIME, last.seq + 1);
      assert.equal(await store.pruneAudit(all), 2);
      assert.equal(await store.auditHead(), null);
      const [next] = await appendAuditEvents(store, [auditEvent()]);
      assert.equal(next?.seq, 6);
      assert.equal(next?.prevHash, last.hash);
    });

    it('gives the space of pruned records back on SQLite; PostgreSQL leaves it to autovacuum', async () => {
      const records = await appendAuditEvents(
        store,
        Array.from({ length: 3000 }, () => auditEvent({ details: { padding: 'x'.repeat(600) } })),
      );
      const last = records[records.length - 1]!;
      await store.pruneAudit(signCheckpoint(key, last.seq, last.hash, EVENT_TIME, last.seq + 1));
      await store.settleAuditWrites();
      const space = await store.reclaimAuditSpace();
      if (backend.name.startsWith('postgres')) {
        assert.deepEqual(space, { engine: 'postgres' });
      } else {
        assert.equal(space.engine, 'sqlite');
        assert.ok(space.engine === 'sqlite' && space.failed === null && !space.switchedOn);
        assert.ok(
          space.engine === 'sqlite' && space.bytesAfter < space.bytesBefore / 4,
          JSON.stringify(space),
        );
      }
    });

    it('refuses to prune behind a checkpoint that does not match the log', async () => {
      const records = await appendAuditEvents(store, [auditEvent(), auditEvent()]);
      const wrongHash = signCheckpoint(key, 1, records[1]!.hash, EVENT_TIME, 2);
      await assert.rejects(store.pruneAudit(wrongHash), /hash is not that of record 1/);
      const wrongBoundary = signCheckpoint(key, 1, records[0]!.hash, EVENT_TIME, 5);
      await assert.rejects(store.pruneAudit(wrongBoundary), RangeError);
      assert.equal((await store.queryAudit({})).length, 2);
      assert.deepEqual(await store.listAuditCheckpoints(), []);
    });

    it('extends one chain when two stores on one database append at the same time', async () => {
      const second = await another();
      const rounds = 20;
      const appends: Array<Promise<AuditRecord[]>> = [];
      for (let round = 0; round < rounds; round++) {
        appends.push(appendAuditEvents(store, [auditEvent(), auditEvent()]));
        appends.push(appendAuditEvents(second, [auditEvent()]));
      }
      const written = (await Promise.all(appends)).flat();
      assert.equal(written.length, rounds * 3);
      const stored = await store.auditRange(1, 10_000, 10_000);
      assert.deepEqual(
        stored.map((record) => record.seq),
        Array.from({ length: rounds * 3 }, (_, index) => index + 1),
      );
      let prevHash = GENESIS_HASH;
      for (const record of stored) {
        assert.equal(record.prevHash, prevHash);
        assert.equal(record.hash, hashAuditRecord(record.prevHash, record.seq, record));
        prevHash = record.hash;
      }
    });

    it('rejects the append, changing nothing, when the database refuses the write', async () => {
      const [kept] = await appendAuditEvents(store, [auditEvent()]);
      await backend.execute(
        url,
        backend.name === 'sqlite'
          ? `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit disk gone'); END`
          : `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit disk gone'; END $$;
             CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()`,
      );
      // Submitted in the same turn, so on SQLite both share one transaction: the failed append undoes
      // only its own writes.
      const request = pendingRequest();
      const [submitted, appended] = await Promise.allSettled([
        store.submitRequest(request, null, { allowDuplicateCertificates: false, now: NOW }),
        appendAuditEvents(store, [auditEvent(), auditEvent()]),
      ]);
      assert.equal(appended.status, 'rejected');
      assert.match(String(appended.status === 'rejected' ? appended.reason : ''), /audit disk gone/);
      assert.equal(submitted.status === 'fulfilled' ? submitted.value.kind : submitted.reason, 'created');
      assert.deepEqual(await store.getRequest(request.id), request);
      assert.deepEqual(await store.queryAudit({}), [kept]);
    });
  });
}
