import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { GENESIS_HASH, hashAuditRecord } from '../../src/audit/chain.js';
import { type AuditSigningKey, auditSigningKey, verifyCheckpoint } from '../../src/audit/checkpoint.js';
import {
  AuditChainBrokenError,
  AuditLog,
  type AuditLogOptions,
  type Auditor,
  AuditUnavailableError,
  NoopAuditSink,
} from '../../src/audit/log.js';
import type { StorableAuditEvent } from '../../src/audit/storable-event.js';
import type { AuditLink, AuditStore } from '../../src/audit/storage-port.js';
import type {
  AuditCheckpoint,
  AuditEvent,
  AuditFilter,
  AuditRecord,
  SpaceReclaim,
} from '../../src/audit/types.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { allBackends } from '../store/backends.js';
import { autosigned, fixedClock, NOW } from '../store/records.js';
import { auditEvent, EVENT_TIME, secondsAfter } from './events.js';

/** The real store, counting appends and optionally refusing checkpoints. */
class ObservedAuditStore implements AuditStore {
  appendCalls = 0;
  refuseCheckpoints = false;

  constructor(private readonly inner: AuditStore) {}

  appendAudit(events: readonly StorableAuditEvent[]): Promise<AuditLink[]> {
    this.appendCalls++;
    return this.inner.appendAudit(events);
  }
  queryAudit(filter: AuditFilter & { newestFirst?: boolean }): Promise<AuditRecord[]> {
    return this.inner.queryAudit(filter);
  }
  auditHead(): Promise<AuditRecord | null> {
    return this.inner.auditHead();
  }
  auditRange(from: number, to: number, limit: number): Promise<AuditRecord[]> {
    return this.inner.auditRange(from, to, limit);
  }
  addAuditCheckpoint(checkpoint: AuditCheckpoint): Promise<void> {
    if (this.refuseCheckpoints) {
      return Promise.reject(new Error('checkpoint table is read-only'));
    }
    return this.inner.addAuditCheckpoint(checkpoint);
  }
  listAuditCheckpoints(): Promise<AuditCheckpoint[]> {
    return this.inner.listAuditCheckpoints();
  }
  pruneAudit(checkpoint: AuditCheckpoint): Promise<number> {
    return this.inner.pruneAudit(checkpoint);
  }
  settleAuditWrites(): Promise<void> {
    return this.inner.settleAuditWrites();
  }
  reclaimAuditSpace(): Promise<SpaceReclaim> {
    return this.inner.reclaimAuditSpace();
  }
}

function isUnavailable(reason: AuditUnavailableError['reason']) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof AuditUnavailableError);
    assert.equal(error.reason, reason);
    assert.equal(error.code, 'audit_unavailable');
    assert.equal(error.message, 'the audit log cannot be written, so nothing was done');
    return true;
  };
}

const refusingTrigger = {
  sqlite: `CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'audit disk gone'); END`,
  postgres: `CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit disk gone'; END $$;
    CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_audit()`,
};

describe('NoopAuditSink', () => {
  it('accepts an event at once and stores nothing', async () => {
    const sink: Auditor = new NoopAuditSink();
    const event = auditEvent();
    assert.equal(await sink.record(event), undefined);
    assert.equal(await sink.record(auditEvent()), undefined);
  });
});

for (const backend of allBackends()) {
  describe(`AuditLog on ${backend.name}`, () => {
    const signer: AuditSigningKey = auditSigningKey(generateKeyPairSync('ed25519').privateKey);
    let url: string;
    let store: CertmasterStore;
    let observed: ObservedAuditStore;
    let errors: string[];
    const logs: AuditLog[] = [];
    const stores: CertmasterStore[] = [];

    function auditLog(options: Partial<AuditLogOptions> = {}): AuditLog {
      const log = new AuditLog({
        store: observed,
        clock: fixedClock,
        signer,
        logger: { error: (_obj, msg) => errors.push(msg) },
        ...options,
      });
      logs.push(log);
      return log;
    }

    before(() => backend.setUp());
    after(() => backend.tearDown());
    beforeEach(async () => {
      url = await backend.freshUrl();
      store = await openStore(url, { clock: fixedClock });
      observed = new ObservedAuditStore(store);
      errors = [];
    });
    afterEach(async () => {
      for (const log of logs.splice(0)) {
        await log.close();
      }
      await store.close();
      for (const other of stores.splice(0)) {
        await other.close();
      }
    });

    it('resolves with the stored record, readable by another store once it resolves', async () => {
      const log = auditLog();
      const event = auditEvent({ kind: 'request.submit', outcome: 'success', reason: null });
      const record = await log.record(event);
      assert.deepEqual(record, {
        ...event,
        seq: 1,
        prevHash: GENESIS_HASH,
        hash: hashAuditRecord(GENESIS_HASH, 1, event),
      });
      const reader = await openStore(url, { clock: fixedClock });
      stores.push(reader);
      assert.deepEqual(await reader.queryAudit({ requestId: event.requestId }), [record]);
    });

    it('writes 500 concurrent records in a handful of appends, as one valid chain', async () => {
      const log = auditLog();
      const records = await Promise.all(Array.from({ length: 500 }, () => log.record(auditEvent())));
      assert.ok(observed.appendCalls <= 5, `${observed.appendCalls} appends for 500 records`);
      assert.deepEqual(
        records.map((record) => record.seq).sort((a, b) => a - b),
        Array.from({ length: 500 }, (_, index) => index + 1),
      );
      assert.deepEqual(await log.verify(), { ok: true, records: 500, checkpoints: 0 });
    });

    it('refuses every caller of a failed write with AuditUnavailableError, keeping earlier records', async () => {
      const log = auditLog();
      const earlier = await Promise.all([log.record(auditEvent()), log.record(auditEvent())]);
      await backend.execute(url, refusingTrigger[backend.name]);
      const outcomes = await Promise.allSettled(Array.from({ length: 20 }, () => log.record(auditEvent())));
      for (const outcome of outcomes) {
        assert.equal(outcome.status, 'rejected');
        if (outcome.status === 'rejected') {
          isUnavailable('write_failed')(outcome.reason);
          assert.match(String((outcome.reason as Error).cause), /audit disk gone/);
        }
      }
      assert.deepEqual(errors, ['the audit log cannot be written: refusing the actions it was to record']);
      assert.deepEqual(await store.queryAudit({}), earlier);
      assert.deepEqual(await log.verify(), { ok: true, records: 2, checkpoints: 0 });

      await backend.execute(
        url,
        `DROP TRIGGER refuse_audit${backend.name === 'postgres' ? ' ON audit_events' : ''}`,
      );
      const after = await log.record(auditEvent());
      assert.equal(after.seq, 3);
      assert.equal(after.prevHash, earlier[1]?.hash);
    });

    it('is not ready when idle while the log cannot be written: readiness probes with a real write', async () => {
      const log = auditLog({ idleProbeMs: 50 });
      await log.record(auditEvent());
      assert.deepEqual(await log.writable(), { ok: true, detail: 'ok' });
      // The store breaks while nobody writes: without a probe, readiness would still say yes.
      await backend.execute(url, refusingTrigger[backend.name]);
      await new Promise((resolve) => setTimeout(resolve, 80));
      const idle = await log.writable();
      assert.equal(idle.ok, false, 'an idle log whose store cannot be written is not ready');
      await backend.execute(
        url,
        `DROP TRIGGER refuse_audit${backend.name === 'postgres' ? ' ON audit_events' : ''}`,
      );
      // A real record shows the store writable again.
      await log.record(auditEvent());
      assert.deepEqual(await log.writable(), { ok: true, detail: 'ok' });
      // A log that has written nothing yet probes with a real record before it says ready.
      const fresh = auditLog({ idleProbeMs: 50 });
      assert.deepEqual(await fresh.writable(), { ok: true, detail: 'ok' });
      const kinds = (await store.queryAudit({})).map((r) => r.kind);
      assert.ok(kinds.includes('audit.probe'), `a probe record was written: ${kinds.join(', ')}`);
    });

    it('refuses with AuditUnavailableError once the store is closed', async () => {
      const log = auditLog();
      const kept = await log.record(auditEvent());
      await store.close();
      await assert.rejects(log.record(auditEvent()), isUnavailable('write_failed'));
      const reopened = await openStore(url, { clock: fixedClock });
      stores.push(reopened);
      assert.deepEqual(await reopened.queryAudit({}), [kept]);
    });

    it('refuses at once when too many records are waiting, and after close', async () => {
      const log = auditLog({ maxPending: 10 });
      const accepted = Array.from({ length: 10 }, () => log.record(auditEvent()));
      await assert.rejects(log.record(auditEvent()), isUnavailable('queue_full'));
      assert.equal((await Promise.all(accepted)).length, 10);
      await log.close();
      await assert.rejects(log.record(auditEvent()), isUnavailable('closed'));
      assert.equal((await store.queryAudit({})).length, 10);
    });

    it('refuses an event it can never store on its own, without failing the others', async () => {
      const log = auditLog();
      const bad = { ...auditEvent(), phase: 'afterwards' } as unknown as AuditEvent;
      const [good, refused] = await Promise.allSettled([log.record(auditEvent()), log.record(bad)]);
      assert.equal(good.status, 'fulfilled');
      assert.equal(refused.status, 'rejected');
      assert.ok(refused.status === 'rejected' && refused.reason instanceof TypeError);
    });

    it('signs a checkpoint of the head every checkpointEvery records, without holding callers', async () => {
      const log = auditLog({ checkpointEvery: 10 });
      await Promise.all(Array.from({ length: 25 }, () => log.record(auditEvent())));
      for (let count = 0; count < 10; count++) {
        await log.record(auditEvent());
      }
      await log.idle();
      const checkpoints = await store.listAuditCheckpoints();
      assert.deepEqual(
        checkpoints.map((checkpoint) => checkpoint.seq),
        [25, 35],
      );
      const publicKeys = new Map([[signer.keyId, signer.publicKey]]);
      for (const checkpoint of checkpoints) {
        assert.ok(verifyCheckpoint(checkpoint, publicKeys));
        assert.equal(checkpoint.prunedBefore, null);
      }
      assert.deepEqual(await log.verify(), { ok: true, records: 35, checkpoints: 2 });
    });

    it('signs a checkpoint of the last record on close, so a cut-off tail is noticed', async () => {
      const log = auditLog();
      await Promise.all([log.record(auditEvent()), log.record(auditEvent()), log.record(auditEvent())]);
      await Promise.all([log.close(), log.close()]);
      assert.deepEqual(
        (await store.listAuditCheckpoints()).map((checkpoint) => checkpoint.seq),
        [3],
      );
      await backend.execute(url, 'DELETE FROM audit_events WHERE seq = 3');
      const result = await log.verify();
      assert.equal(result.ok ? 0 : result.firstBrokenSeq, 3);
    });

    it('counts records the store wrote inside other writes, and its head never moves back', async () => {
      const log = auditLog({ checkpointEvery: 3 });
      // A submission's record is written by the store (writtenWithin), and may be reported after
      // records the log appended later: the checkpoint still names the newest record.
      const within = log.prepareWithin(auditEvent({ phase: 'response', outcome: 'success', reason: null }));
      const { request, certificate } = autosigned();
      const outcome = await store.submitRequest(request, certificate, {
        allowDuplicateCertificates: false,
        now: NOW,
        records: [within],
      });
      const link = outcome.kind === 'created' ? outcome.recorded?.[0] : undefined;
      assert.ok(link);
      const later = await log.record(auditEvent());
      assert.equal(later.seq, link.seq + 1);
      const written = log.writtenWithin(within, link);
      assert.equal(written.hash, link.hash);
      assert.equal(written.requestId, within.event.requestId);
      await log.close();
      assert.deepEqual(
        (await store.listAuditCheckpoints()).map((checkpoint) => checkpoint.seq),
        [later.seq],
        'one checkpoint, of the newest record, not of the one reported last',
      );
      assert.throws(() => log.prepareWithin(auditEvent()), isUnavailable('closed'));
      assert.equal((await log.verify()).ok, true);
    });

    it('is not ready after the store failed to write a record inside another write', async () => {
      const log = auditLog();
      await log.record(auditEvent());
      assert.equal((await log.writable()).ok, true);
      const refusal = log.failedWithin(new Error('disk full'));
      assert.ok(refusal instanceof AuditUnavailableError && refusal.reason === 'write_failed');
      assert.equal((await log.writable()).ok, false);
      assert.deepEqual(errors, ['the audit log cannot be written: refusing the actions it was to record']);
    });

    it('keeps recording when a checkpoint cannot be written', async () => {
      observed.refuseCheckpoints = true;
      const log = auditLog({ checkpointEvery: 2 });
      await Promise.all([log.record(auditEvent()), log.record(auditEvent())]);
      await log.idle();
      assert.equal((await log.record(auditEvent())).seq, 3);
      assert.deepEqual(errors, ['could not write an audit checkpoint']);
      assert.deepEqual(await store.listAuditCheckpoints(), []);
    });

    it('prunes records older than a date behind a signed checkpoint, and still verifies', async () => {
      const log = auditLog();
      const events = [0, 10, 20, 30, 40].map((seconds) =>
        auditEvent({ at: secondsAfter(EVENT_TIME, seconds) }),
      );
      for (const event of events) {
        await log.record(event);
      }
      const { removed, checkpoint } = await log.prune(secondsAfter(EVENT_TIME, 25));
      assert.equal(removed, 3);
      assert.equal(checkpoint?.seq, 3);
      assert.equal(checkpoint?.prunedBefore, 4);
      assert.deepEqual(
        (await store.queryAudit({})).map((record) => record.seq),
        [4, 5],
      );
      assert.deepEqual(await log.verify(), { ok: true, records: 2, checkpoints: 1 });
      assert.deepEqual(await log.prune(secondsAfter(EVENT_TIME, 25)), {
        removed: 0,
        checkpoint: null,
        space: null,
      });
      await log.record(auditEvent());
      assert.deepEqual(await log.verify(), { ok: true, records: 3, checkpoints: 1 });

      await backend.execute(url, `UPDATE audit_checkpoints SET hash = '${'0'.repeat(64)}' WHERE seq = 3`);
      const broken = await log.verify();
      assert.equal(broken.ok, false);
      assert.equal(broken.ok ? 0 : broken.firstBrokenSeq, 3);
    });

    it('refuses to prune a chain that does not verify', async () => {
      const log = auditLog();
      for (let count = 0; count < 4; count++) {
        await log.record(auditEvent());
      }
      await backend.execute(url, `UPDATE audit_events SET cause = 'rewritten' WHERE seq = 2`);
      await assert.rejects(log.prune(secondsAfter(EVENT_TIME, 3600)), (error: unknown) => {
        assert.ok(error instanceof AuditChainBrokenError);
        assert.equal(error.firstBrokenSeq, 2);
        return true;
      });
      assert.equal((await store.queryAudit({})).length, 4);
    });

    it('forms one chain from two stores on one database recording at once', async () => {
      const second = await openStore(url, { clock: fixedClock });
      stores.push(second);
      const first = auditLog();
      const other = new AuditLog({ store: second, clock: fixedClock, signer, checkpointEvery: 7 });
      logs.push(other);
      const written: Array<Promise<AuditRecord>> = [];
      for (let round = 0; round < 40; round++) {
        written.push(first.record(auditEvent()), other.record(auditEvent()));
        if (round % 8 === 0) {
          await Promise.all(written);
        }
      }
      const records = await Promise.all(written);
      assert.equal(new Set(records.map((record) => record.seq)).size, 80);
      await other.idle();
      const result = await first.verify();
      assert.equal(result.ok, true, JSON.stringify(result));
      assert.equal(result.ok && result.records, 80);
    });
  });
}
