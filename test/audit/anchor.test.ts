import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { anchorFromJson, anchorToJson } from '../../src/audit/anchor.js';
import { hashAuditRecord } from '../../src/audit/chain.js';
import { type AuditSigningKey, auditSigningKey } from '../../src/audit/checkpoint.js';
import { AuditLog, type AuditLogOptions } from '../../src/audit/log.js';
import type { AuditCheckpoint } from '../../src/audit/types.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { MovableClock } from '../helpers/clock.js';
import { allBackends, type Backend } from '../store/backends.js';
import { fixedClock } from '../store/records.js';
import { auditEvent, EVENT_TIME } from './events.js';

/**
 * What an attacker with write access to the database does after the last checkpoint: changes records
 * and recomputes every hash from there on, so the chain links again.
 */
async function rewriteFrom(
  backend: Backend,
  url: string,
  store: CertmasterStore,
  from: number,
): Promise<void> {
  const records = await store.auditRange(from, Number.MAX_SAFE_INTEGER, 10_000);
  let prevHash = records[0]!.prevHash;
  for (const record of records) {
    const cause = `rewritten ${record.seq}`;
    const hash = hashAuditRecord(prevHash, record.seq, { ...record, cause });
    await backend.execute(
      url,
      `UPDATE audit_events SET cause = '${cause}', prev_hash = '${prevHash}', hash = '${hash}' WHERE seq = ${record.seq}`,
    );
    prevHash = hash;
  }
}

for (const backend of allBackends()) {
  describe(`audit anchors and timed checkpoints on ${backend.name}`, () => {
    const signer: AuditSigningKey = auditSigningKey(generateKeyPairSync('ed25519').privateKey);
    let url: string;
    let store: CertmasterStore;
    const logs: AuditLog[] = [];

    function auditLog(options: Partial<AuditLogOptions> = {}): AuditLog {
      const log = new AuditLog({ store, clock: fixedClock, signer, ...options });
      logs.push(log);
      return log;
    }

    async function recordMany(log: AuditLog, count: number): Promise<void> {
      for (let index = 0; index < count; index++) {
        await log.record(auditEvent());
      }
    }

    before(() => backend.setUp());
    after(() => backend.tearDown());
    beforeEach(async () => {
      url = await backend.freshUrl();
      store = await openStore(url, { clock: fixedClock });
    });
    afterEach(async () => {
      for (const log of logs.splice(0)) {
        await log.close();
      }
      await store.close();
    });

    it('signs a checkpoint once records are checkpointIntervalMs old, and none when nothing was added', async () => {
      const clock = new MovableClock(EVENT_TIME.getTime());
      const log = auditLog({ clock, checkpointIntervalMs: 60_000 });
      await recordMany(log, 3);
      assert.deepEqual(await log.coverage(), {
        uncovered: 3,
        newestCheckpointAt: null,
        newestCheckpointSeq: null,
      });
      clock.advance(59.999);
      log.checkpointIfDue();
      await log.idle();
      assert.deepEqual(await store.listAuditCheckpoints(), []);
      clock.advance(0.001);
      log.checkpointIfDue();
      await log.idle();
      assert.deepEqual(await log.coverage(), {
        uncovered: 0,
        newestCheckpointAt: clock.now(),
        newestCheckpointSeq: 3,
      });
      clock.advance(120);
      log.checkpointIfDue();
      await log.idle();
      assert.equal((await store.listAuditCheckpoints()).length, 1);
      // A record after the interval has passed is checkpointed as it is written.
      await log.record(auditEvent());
      await log.idle();
      assert.deepEqual(
        (await store.listAuditCheckpoints()).map((checkpoint) => checkpoint.seq).sort(),
        [3, 4],
      );
    });

    it('exports the head checkpoint as an anchor that survives a round trip and verifies', async () => {
      const log = auditLog();
      await recordMany(log, 5);
      const checkpoint = await log.checkpointHead();
      assert.equal(checkpoint?.seq, 5);
      assert.deepEqual(await log.checkpointHead(), checkpoint);
      const anchor = anchorFromJson(JSON.stringify(anchorToJson(checkpoint as AuditCheckpoint)));
      assert.deepEqual(anchor, checkpoint);
      await recordMany(log, 3);
      assert.deepEqual(await log.verifyAgainst(anchor), { ok: true });
      assert.equal((await log.coverage()).uncovered, 3);
    });

    it('catches the newest records deleted together with their checkpoints', async () => {
      const log = auditLog({ checkpointEvery: 4 });
      await recordMany(log, 6);
      const anchor = (await log.checkpointHead()) as AuditCheckpoint;
      await recordMany(log, 4);
      await log.idle();
      await backend.execute(url, 'DELETE FROM audit_checkpoints WHERE seq >= 5');
      await backend.execute(url, 'DELETE FROM audit_events WHERE seq >= 5');
      // The cut is invisible from inside the database...
      assert.deepEqual(await log.verify(), { ok: true, records: 4, checkpoints: 1 });
      // ...but not to the anchor kept outside it.
      const result = await log.verifyAgainst(anchor);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.why, /log ends at record 4: records were removed from its end/);
    });

    it('catches records rewritten with recomputed hashes after the last stored checkpoint', async () => {
      const log = auditLog();
      await recordMany(log, 6);
      const anchor = (await log.checkpointHead()) as AuditCheckpoint;
      await recordMany(log, 2);
      await backend.execute(url, 'DELETE FROM audit_checkpoints');
      await rewriteFrom(backend, url, store, 3);
      assert.deepEqual(await log.verify(), { ok: true, records: 8, checkpoints: 0 });
      const result = await log.verifyAgainst(anchor);
      assert.equal(result.ok, false);
      assert.match(result.ok ? '' : result.why, /record 6 is not the record the anchor vouches for/);
    });

    it('accepts an anchor whose record was pruned behind a signed checkpoint, refuses a forged one', async () => {
      const log = auditLog();
      await recordMany(log, 4);
      const anchor = (await log.checkpointHead()) as AuditCheckpoint;
      await log.record(auditEvent({ at: new Date(EVENT_TIME.getTime() + 3_600_000) }));
      assert.equal((await log.prune(new Date(EVENT_TIME.getTime() + 1000))).removed, 4);
      assert.deepEqual(await log.verifyAgainst(anchor), { ok: true });
      const forged = { ...anchor, hash: 'f'.repeat(64) };
      assert.deepEqual(await log.verifyAgainst(forged), {
        ok: false,
        why: 'the anchor is not signed by a known audit key',
      });
    });
  });
}

describe('anchorFromJson', () => {
  it('refuses what is not an anchor', () => {
    assert.throws(() => anchorFromJson('not json'), /not JSON/);
    assert.throws(() => anchorFromJson('{"format":"other"}'), /not a certmaster audit anchor/);
    assert.throws(
      () => anchorFromJson('{"format":"certmaster-audit-anchor/v1","seq":"1"}'),
      /lacks a field or has one of the wrong type/,
    );
  });
});
