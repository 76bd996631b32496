/**
 * An issuance and the audit record of it in one transaction (SubmitOptions.record): the record is
 * chained only when the request is created, and when it cannot be written nothing is stored. On both
 * databases, the failure made for real by a trigger that refuses the insert, as a full disk would.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { hashAuditRecord } from '../../src/audit/chain.js';
import { appendAuditEvents } from '../../src/audit/log.js';
import { storableAuditEvent } from '../../src/audit/storable-event.js';
import { SubmissionRecordError } from '../../src/store/certificates/store.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { auditEvent } from '../audit/events.js';
import { allBackends } from './backends.js';
import { autosigned, fixedClock, NOW } from './records.js';

const OPTIONS = { allowDuplicateCertificates: false, now: NOW };

function outcomeEvent(requestId: string) {
  return storableAuditEvent(
    auditEvent({ requestId, kind: 'request.submit', phase: 'response', details: { issued: true } }),
  );
}

const REFUSE_RESPONSES = {
  sqlite: [
    `CREATE TRIGGER no_response BEFORE INSERT ON audit_events WHEN NEW.phase = 'response'
     BEGIN SELECT RAISE(ABORT, 'audit disk full'); END`,
  ],
  postgres: [
    `CREATE FUNCTION no_response() RETURNS trigger AS $$
     BEGIN RAISE EXCEPTION 'audit disk full'; END $$ LANGUAGE plpgsql`,
    `CREATE TRIGGER no_response BEFORE INSERT ON audit_events FOR EACH ROW
     WHEN (NEW.phase = 'response') EXECUTE FUNCTION no_response()`,
  ],
};

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

    it('chains the record after the records before it, in the transaction that creates the request', async () => {
      const [before] = await appendAuditEvents(store, [auditEvent({ requestId: 'req-1', phase: 'request' })]);
      const { request, certificate } = autosigned();
      const record = outcomeEvent('req-1');
      const outcome = await store.submitRequest(request, certificate, { ...OPTIONS, record });
      assert.equal(outcome.kind, 'created');
      assert.ok(outcome.kind === 'created' && outcome.recorded, 'the link of the record written');
      const link = outcome.recorded;
      assert.equal(link.seq, (before?.seq ?? 0) + 1);
      assert.equal(link.prevHash, before?.hash);
      const head = await store.auditHead();
      assert.deepEqual(
        { seq: head?.seq, hash: head?.hash, phase: head?.phase, details: head?.details },
        { seq: link.seq, hash: link.hash, phase: 'response', details: { issued: true } },
      );
      assert.equal(
        head && hashAuditRecord(link.prevHash, link.seq, head),
        link.hash,
        'hashed as the log does',
      );
      assert.equal((await store.getCertificate(certificate.serial))?.serial, certificate.serial);
    });

    it('writes no record when the submission creates nothing (the same CSR again)', async () => {
      const { request, certificate } = autosigned();
      await store.submitRequest(request, certificate, OPTIONS);
      const again = autosigned({ csrSha256: request.csrSha256, commonName: request.commonName });
      const outcome = await store.submitRequest(again.request, again.certificate, {
        ...OPTIONS,
        record: outcomeEvent('req-2'),
      });
      assert.equal(outcome.kind, 'existing');
      assert.equal(await store.auditHead(), null, 'nothing was recorded');
    });

    it('stores nothing when the record cannot be written, and says so with SubmissionRecordError', async () => {
      await appendAuditEvents(store, [auditEvent({ requestId: 'req-3', phase: 'request' })]);
      for (const statement of REFUSE_RESPONSES[backend.name]) await backend.execute(url, statement);
      const { request, certificate } = autosigned();
      await assert.rejects(
        store.submitRequest(request, certificate, { ...OPTIONS, record: outcomeEvent('req-3') }),
        (error: unknown) => {
          assert.ok(error instanceof SubmissionRecordError, String(error));
          assert.match(String((error.cause as Error).message), /audit disk full/);
          return true;
        },
      );
      assert.equal(await store.getRequest(request.id), null, 'no request');
      assert.equal(await store.getCertificate(certificate.serial), null, 'no certificate');
      assert.equal((await store.auditHead())?.phase, 'request', 'the chain ends where it did');
      // Without the record, the same submission is stored: only the record's write failed.
      assert.equal((await store.submitRequest(request, certificate, OPTIONS)).kind, 'created');
    });
  });
}
