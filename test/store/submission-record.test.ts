/**
 * An issuance and the audit record of it in one transaction (SubmitOptions.record): the record is
 * chained only when the request is created, and when it cannot be written nothing is stored. On both
 * databases, the failure made for real by a trigger that refuses the insert, as a full disk would.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { hashAuditRecord } from '../../src/audit/chain.js';
import { appendAuditEvents } from '../../src/audit/linked-records.js';
import { storableAuditEvent } from '../../src/audit/storable-event.js';
import { SubmissionRecordError } from '../../src/store/certificates/store.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { auditEvent } from '../audit/events.js';
import { allBackends, refuseAuditPhase } from './backends.js';
import { autosigned, fixedClock, NOW } from './records.js';

const OPTIONS = { allowDuplicateCertificates: false, now: NOW };

function submissionEvents(requestId: string) {
  return [
    storableAuditEvent(auditEvent({ requestId, kind: 'request.submit', phase: 'request', details: {} })),
    storableAuditEvent(
      auditEvent({ requestId, kind: 'request.submit', phase: 'response', details: { issued: true } }),
    ),
  ];
}

for (const backend of allBackends()) {
  describe(`a submission and its audit record on ${backend.name}`, () => {
    let url: string;
    let store: CertmasterStore;

    before(() => backend.setUp());
    after(() => backend.tearDown());
    beforeEach(async () => {
      url = await backend.freshUrl();
      store = await openStore(url, { clock: fixedClock });
    });
    afterEach(() => store.close());

    it('chains the records after those before them, in the transaction that creates the request', async () => {
      const [before] = await appendAuditEvents(store, [auditEvent({ requestId: 'req-0' })]);
      const { request, certificate } = autosigned();
      const records = submissionEvents('req-1');
      const outcome = await store.submitRequest(request, certificate, { ...OPTIONS, records });
      assert.equal(outcome.kind, 'created');
      const links = outcome.kind === 'created' ? (outcome.recorded ?? []) : [];
      assert.deepEqual(
        links.map((link) => [link.seq, link.prevHash]),
        [
          [(before?.seq ?? 0) + 1, before?.hash],
          [(before?.seq ?? 0) + 2, links[0]?.hash],
        ],
      );
      const stored = await store.queryAudit({ requestId: 'req-1' });
      assert.deepEqual(
        stored.map((record) => [record.seq, record.hash, record.phase, record.details]),
        [
          [links[0]?.seq, links[0]?.hash, 'request', {}],
          [links[1]?.seq, links[1]?.hash, 'response', { issued: true }],
        ],
      );
      for (const record of stored) {
        assert.equal(
          hashAuditRecord(record.prevHash, record.seq, record),
          record.hash,
          'hashed as the log does',
        );
      }
      assert.equal((await store.getCertificate(certificate.serial))?.serial, certificate.serial);
    });

    it('writes no record when the submission creates nothing (the same CSR again)', async () => {
      const { request, certificate } = autosigned();
      await store.submitRequest(request, certificate, OPTIONS);
      const again = autosigned({ csrSha256: request.csrSha256, commonName: request.commonName });
      const outcome = await store.submitRequest(again.request, again.certificate, {
        ...OPTIONS,
        records: submissionEvents('req-2'),
      });
      assert.equal(outcome.kind, 'existing');
      assert.equal(await store.auditHead(), null, 'nothing was recorded');
    });

    it('stores nothing when the record cannot be written, and says so with SubmissionRecordError', async () => {
      await appendAuditEvents(store, [auditEvent({ requestId: 'req-0', phase: 'decision' })]);
      for (const statement of refuseAuditPhase(backend.name, 'response'))
        await backend.execute(url, statement);
      const { request, certificate } = autosigned();
      await assert.rejects(
        store.submitRequest(request, certificate, { ...OPTIONS, records: submissionEvents('req-3') }),
        (error: unknown) => {
          assert.ok(error instanceof SubmissionRecordError, String(error));
          assert.match(String((error.cause as Error).message), /audit disk full/);
          return true;
        },
      );
      assert.equal(await store.getRequest(request.id), null, 'no request');
      assert.equal(await store.getCertificate(certificate.serial), null, 'no certificate');
      assert.equal((await store.auditHead())?.requestId, 'req-0', 'the chain ends where it did');
      // Without the record, the same submission is stored: only the record's write failed.
      assert.equal((await store.submitRequest(request, certificate, OPTIONS)).kind, 'created');
    });
  });
}
