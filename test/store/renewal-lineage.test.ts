/**
 * Renewal lineage and revoke-on-renew in the store, on SQLite and PostgreSQL: a certificate issued by
 * a renewal names the serial it renewed, and the old one is revoked (superseded) in the same
 * transaction that stores the new one, or not at all.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { SupersedeConflictError } from '../../src/store/certificates/store.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { allBackends } from './backends.js';
import { autosigned, fixedClock, NOW } from './records.js';

for (const backend of allBackends()) {
  describe(`renewal lineage on ${backend.name}`, () => {
    let store: CertmasterStore;

    before(() => backend.setUp());
    after(() => backend.tearDown());
    beforeEach(async () => {
      store = await openStore(await backend.freshUrl(), { clock: fixedClock });
    });
    afterEach(() => store.close());

    it('records which certificate a renewal renewed; others have none', async () => {
      const first = autosigned();
      await store.submitRequest(first.request, first.certificate, {
        allowDuplicateCertificates: false,
        now: NOW,
      });
      const second = autosigned(
        { commonName: first.request.commonName },
        { renewedFrom: first.certificate.serial },
      );
      const outcome = await store.submitRequest(second.request, second.certificate, {
        allowDuplicateCertificates: true,
        now: NOW,
      });
      assert.equal(outcome.kind, 'created');
      assert.equal(
        (await store.getCertificate(second.certificate.serial))?.renewedFrom,
        second.certificate.renewedFrom,
      );
      assert.equal((await store.getCertificate(first.certificate.serial))?.renewedFrom, undefined);
      const listed = await store.listCertificates({ status: 'all', commonName: first.request.commonName });
      assert.deepEqual(
        listed.map((c) => c.renewedFrom ?? null).sort(),
        [first.certificate.serial, null].sort(),
      );
      // The old certificate stays valid unless the renewal supersedes it.
      assert.equal((await store.getCertificate(first.certificate.serial))?.revokedAt, null);
    });

    it('supersede revokes the renewed certificate in the same transaction', async () => {
      const first = autosigned();
      await store.submitRequest(first.request, first.certificate, {
        allowDuplicateCertificates: false,
        now: NOW,
      });
      const markBefore = await store.revocationMark();
      const second = autosigned(
        { commonName: first.request.commonName },
        { renewedFrom: first.certificate.serial },
      );
      await store.submitRequest(second.request, second.certificate, {
        allowDuplicateCertificates: true,
        now: NOW,
        supersede: { serial: first.certificate.serial, reason: 'superseded' },
      });
      const old = await store.getCertificate(first.certificate.serial);
      assert.equal(old?.revocationReason, 'superseded');
      assert.deepEqual(old?.revokedAt, NOW);
      assert.notEqual(await store.revocationMark(), markBefore, 'the CRL sees the revocation');
      assert.equal((await store.getCertificate(second.certificate.serial))?.revokedAt, null);
    });

    it('a renewal cannot supersede a certificate already revoked: nothing is stored', async () => {
      const first = autosigned();
      await store.submitRequest(first.request, first.certificate, {
        allowDuplicateCertificates: false,
        now: NOW,
      });
      await store.revokeCertificate(first.certificate.serial, 'superseded', NOW);
      const second = autosigned(
        { commonName: first.request.commonName },
        { renewedFrom: first.certificate.serial },
      );
      await assert.rejects(
        store.submitRequest(second.request, second.certificate, {
          allowDuplicateCertificates: true,
          now: NOW,
          supersede: { serial: first.certificate.serial, reason: 'superseded' },
        }),
        SupersedeConflictError,
      );
      assert.equal(await store.getCertificate(second.certificate.serial), null);
      assert.equal(await store.getRequest(second.request.id), null);
    });
  });
}
