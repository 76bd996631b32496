import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import fc from 'fast-check';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import {
  type AuditVerification,
  GENESIS_HASH,
  hashAuditRecord,
  verifyAuditChain,
} from '../../src/audit/chain.js';
import { auditSigningKey, signCheckpoint } from '../../src/audit/checkpoint.js';
import { appendAuditEvents } from '../../src/audit/linked-records.js';
import type { AuditRecord } from '../../src/audit/types.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { allBackends } from '../store/backends.js';
import { fixedClock } from '../store/records.js';
import { auditEvent, EVENT_TIME } from './events.js';

describe('canonical JSON', () => {
  it('sorts keys at every level and writes no whitespace', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [3, { z: null, y: 'é' }], c: true } }),
      '{"a":{"c":true,"d":[3,{"y":"é","z":null}]},"b":1}',
    );
  });

  it('treats what JSON cannot hold as JSON.stringify does', () => {
    assert.equal(
      canonicalJson({ gone: undefined, fn: () => 1, at: new Date(0), list: [undefined, Number.NaN, -0] }),
      '{"at":"1970-01-01T00:00:00.000Z","list":[null,null,0]}',
    );
    assert.throws(() => canonicalJson(1n), TypeError);
    assert.throws(() => canonicalJson(undefined), TypeError);
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let level = 0; level < 40; level++) {
      const inner: Record<string, unknown> = {};
      cursor.next = inner;
      cursor = inner;
    }
    assert.throws(() => canonicalJson(deep), RangeError);
  });

  it('writes holes as null and unwraps boxed primitives, as JSON.stringify does', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is what this checks
    const sparse = [1, , 3];
    assert.equal(canonicalJson(sparse), '[1,null,3]');
    assert.equal(
      canonicalJson({ s: new String('x'), n: new Number(2), b: new Boolean(false) }),
      '{"b":false,"n":2,"s":"x"}',
    );
  });

  it('is a fixed point: what it writes parses and encodes back to the same text', () => {
    fc.assert(
      fc.property(
        fc.anything({ withDate: true, withNullPrototype: true, withSparseArray: true }),
        (value) => {
          fc.pre(value !== undefined && typeof value !== 'function');
          const text = canonicalJson(value);
          assert.equal(canonicalJson(JSON.parse(text)), text);
        },
      ),
    );
  });

  it('encodes a value and its JSON round trip identically, whatever the key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const roundTripped: unknown = JSON.parse(JSON.stringify(value) ?? 'null');
        assert.equal(canonicalJson(value), canonicalJson(roundTripped));
        assert.deepEqual(JSON.parse(canonicalJson(value)), roundTripped);
      }),
    );
  });
});

describe('record hash', () => {
  it('is SHA-256 of the canonical JSON of the fields in their documented order', () => {
    const event = auditEvent();
    const encoding = canonicalJson([
      'certmaster-audit/v1',
      GENESIS_HASH,
      7,
      event.at.toISOString(),
      event.requestId,
      event.kind,
      event.phase,
      event.outcome,
      event.reason,
      event.principal,
      event.claimedName,
      event.method,
      event.credentialId,
      event.clientAddress,
      event.cause,
      event.told,
      event.target,
      event.details,
    ]);
    assert.equal(
      hashAuditRecord(GENESIS_HASH, 7, event),
      createHash('sha256').update(encoding).digest('hex'),
    );
  });

  it('is SHA-256 hex that changes with the predecessor, the seq and every field', () => {
    const event = auditEvent();
    const hash = hashAuditRecord(GENESIS_HASH, 1, event);
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(hashAuditRecord(GENESIS_HASH, 1, { ...event, details: { ...event.details } }), hash);
    const variants = [
      hashAuditRecord('1'.repeat(64), 1, event),
      hashAuditRecord(GENESIS_HASH, 2, event),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, at: new Date(event.at.getTime() + 1) }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, requestId: 'other' }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, kind: 'authz.refused' }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, phase: 'request' }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, outcome: 'success' }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, reason: null }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, principal: 'alice' }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, claimedName: null }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, method: 'digest' }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, credentialId: 'tok_1' }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, clientAddress: '192.0.2.1' }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, cause: 'unknown user alice' }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, told: null }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, target: null }),
      hashAuditRecord(GENESIS_HASH, 1, { ...event, details: {} }),
      // A field's value moved to its neighbour must not hash the same.
      hashAuditRecord(GENESIS_HASH, 1, { ...event, reason: event.principal, principal: event.reason }),
    ];
    assert.equal(new Set([hash, ...variants]).size, variants.length + 1);
  });
});

function failsAt(result: AuditVerification, seq: number): void {
  assert.equal(result.ok, false, 'verification should fail');
  if (!result.ok) {
    assert.equal(result.firstBrokenSeq, seq, result.why);
  }
}

for (const backend of allBackends()) {
  describe(`audit chain verification on ${backend.name}`, () => {
    const key = auditSigningKey(generateKeyPairSync('ed25519').privateKey);
    const publicKeys = new Map<string, KeyObject>([[key.keyId, key.publicKey]]);
    let url: string;
    let store: CertmasterStore;
    let records: AuditRecord[];

    function verify(pageSize = 3): Promise<AuditVerification> {
      return verifyAuditChain(store, { publicKeys, pageSize });
    }

    function sql(statement: string): Promise<void> {
      return backend.execute(url, statement);
    }

    async function checkpointAt(seq: number, prunedBefore: number | null = null): Promise<void> {
      const record = records[seq - 1]!;
      const checkpoint = signCheckpoint(key, seq, record.hash, EVENT_TIME, prunedBefore);
      if (prunedBefore === null) {
        await store.addAuditCheckpoint(checkpoint);
      } else {
        await store.pruneAudit(checkpoint);
      }
    }

    before(() => backend.setUp());
    after(() => backend.tearDown());
    beforeEach(async () => {
      url = await backend.freshUrl();
      store = await openStore(url, { clock: fixedClock });
      records = await appendAuditEvents(
        store,
        Array.from({ length: 10 }, (_, index) => auditEvent({ cause: `cause ${index + 1}` })),
      );
      await checkpointAt(5);
    });
    afterEach(() => store.close());

    it('verifies an intact log, page by page', async () => {
      assert.deepEqual(await verify(), { ok: true, records: 10, checkpoints: 1 });
      assert.deepEqual(await verify(1000), { ok: true, records: 10, checkpoints: 1 });
    });

    it('verifies an empty log', async () => {
      await sql('DELETE FROM audit_checkpoints; DELETE FROM audit_events');
      assert.deepEqual(await verify(), { ok: true, records: 0, checkpoints: 0 });
    });

    it('names a record whose content was changed', async () => {
      await sql(`UPDATE audit_events SET cause = 'nothing to see' WHERE seq = 4`);
      failsAt(await verify(), 4);
    });

    it('names a record whose time, details or outcome was changed', async () => {
      await sql(`UPDATE audit_events SET at = at + 1 WHERE seq = 8`);
      failsAt(await verify(), 8);
      await sql(`UPDATE audit_events SET at = at - 1 WHERE seq = 8`);
      assert.equal((await verify()).ok, true);
      await sql(`UPDATE audit_events SET details = '{}' WHERE seq = 7`);
      failsAt(await verify(), 7);
    });

    it('names a deleted record', async () => {
      await sql('DELETE FROM audit_events WHERE seq = 6');
      failsAt(await verify(), 6);
    });

    it('names the first record when the oldest ones were deleted without a prune checkpoint', async () => {
      await sql('DELETE FROM audit_events WHERE seq <= 2');
      failsAt(await verify(), 1);
    });

    it('names records swapped in order', async () => {
      await sql(
        'UPDATE audit_events SET seq = -3 WHERE seq = 3; UPDATE audit_events SET seq = 3 WHERE seq = 4; UPDATE audit_events SET seq = 4 WHERE seq = -3',
      );
      failsAt(await verify(), 3);
    });

    it('names a record replaced by a forgery whose hash was recomputed', async () => {
      const original = records[2]!;
      const forged = { ...original, cause: 'forged' };
      const forgedHash = hashAuditRecord(forged.prevHash, forged.seq, forged);
      await sql(`UPDATE audit_events SET cause = 'forged', hash = '${forgedHash}' WHERE seq = 3`);
      failsAt(await verify(), 3);
    });

    it('names a record the signed checkpoint vouches for when the chain after it was rebuilt', async () => {
      // Without the audit key, rewriting record 5 and every record after it still contradicts the
      // checkpoint signed for record 5.
      let prevHash = records[3]!.hash;
      const statements: string[] = [];
      for (const record of records.slice(4)) {
        const changed = { ...record, prevHash, cause: `${record.cause} (rewritten)` };
        const hash = hashAuditRecord(prevHash, record.seq, changed);
        statements.push(
          `UPDATE audit_events SET cause = '${changed.cause}', prev_hash = '${prevHash}', hash = '${hash}' WHERE seq = ${record.seq}`,
        );
        prevHash = hash;
      }
      await sql(statements.join('; '));
      failsAt(await verify(), 5);
    });

    it('notices records cut off the end, back to the last checkpoint', async () => {
      await checkpointAt(9);
      await sql('DELETE FROM audit_events WHERE seq >= 8');
      failsAt(await verify(), 8);
    });

    it('names an unreadable record in order', async () => {
      await sql(`UPDATE audit_events SET kind = 'made.up' WHERE seq = 7`);
      failsAt(await verify(), 7);
      await sql(`UPDATE audit_events SET cause = 'changed' WHERE seq = 2`);
      failsAt(await verify(), 2);
    });

    it('fails on a checkpoint signed by an unknown key or altered', async () => {
      await sql(`UPDATE audit_checkpoints SET at = at + 1000 WHERE seq = 5`);
      failsAt(await verify(), 5);
      assert.equal((await verifyAuditChain(store, { publicKeys: new Map() })).ok, false);
    });

    it('keeps verifying after a prune, from the prune checkpoint', async () => {
      await checkpointAt(3, 4);
      assert.deepEqual(
        (await store.queryAudit({})).map((record) => record.seq),
        [4, 5, 6, 7, 8, 9, 10],
      );
      assert.deepEqual(await verify(), { ok: true, records: 7, checkpoints: 2 });
      await checkpointAt(10, 11);
      assert.deepEqual(await verify(), { ok: true, records: 0, checkpoints: 1 });
      const [next] = await appendAuditEvents(store, [auditEvent()]);
      assert.equal(next?.prevHash, records[9]!.hash);
      assert.deepEqual(await verify(), { ok: true, records: 1, checkpoints: 1 });
    });

    it('fails when the prune checkpoint was tampered with', async () => {
      await checkpointAt(3, 4);
      await sql(`UPDATE audit_checkpoints SET pruned_before = 6 WHERE seq = 3`);
      failsAt(await verify(), 3);
    });

    it('fails when records were deleted past the prune checkpoint, or the checkpoint moved', async () => {
      await checkpointAt(3, 4);
      await sql('DELETE FROM audit_events WHERE seq = 4');
      failsAt(await verify(), 4);
    });

    it('fails when a periodic checkpoint was turned into a prune checkpoint to hide deletions', async () => {
      await sql(
        'UPDATE audit_checkpoints SET pruned_before = 6 WHERE seq = 5; DELETE FROM audit_events WHERE seq <= 5',
      );
      failsAt(await verify(), 5);
    });

    it('fails when the prune checkpoint was deleted', async () => {
      await checkpointAt(3, 4);
      await sql('DELETE FROM audit_checkpoints WHERE pruned_before IS NOT NULL');
      failsAt(await verify(), 1);
    });
  });
}
