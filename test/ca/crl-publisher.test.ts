/**
 * The CRL publisher over real stores: replicas sharing one database serve one growing sequence of CRL
 * numbers, see each other's revocations at once, rebuild before nextUpdate and drop expired entries.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { X509Certificate, X509Crl } from '@peculiar/x509';
import { CertificateAuthority } from '../../src/ca/authority.js';
import { CrlPublisher } from '../../src/ca/crl-publisher.js';
import { createRootCa } from '../../src/ca/root.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { MovableClock } from '../helpers/clock.js';
import { allBackends } from '../store/backends.js';
import { autosigned, NOW } from '../store/records.js';

const HOUR_MS = 3_600_000;

for (const backend of allBackends()) {
  describe(`CRL publisher on ${backend.name}`, () => {
    let ca: CertificateAuthority;
    let clock: MovableClock;
    let url: string;
    const stores: CertmasterStore[] = [];

    async function replica(): Promise<{ store: CertmasterStore; crl: CrlPublisher }> {
      const store = await openStore(url, { clock });
      stores.push(store);
      return { store, crl: new CrlPublisher({ store, ca, clock, validityMs: () => 24 * HOUR_MS }) };
    }

    async function issued(store: CertmasterStore, notAfter?: Date): Promise<string> {
      const { request, certificate } = autosigned({}, notAfter ? { notAfter } : {});
      await store.submitRequest(request, certificate, { allowDuplicateCertificates: true, now: clock.now() });
      return certificate.serial;
    }

    before(async () => {
      await backend.setUp();
      const root = await createRootCa({
        keyType: 'ec-p256',
        subject: 'CN=crl test CA',
        validityDays: 3650,
        clock: { now: () => new Date(NOW.getTime() - HOUR_MS) },
      });
      ca = new CertificateAuthority(root.certificateDer, root.privateKey);
    });
    after(() => backend.tearDown());
    beforeEach(async () => {
      clock = new MovableClock(NOW.getTime());
      url = await backend.freshUrl();
    });
    afterEach(async () => {
      for (const store of stores.splice(0)) await store.close();
    });

    it('numbers only grow, across replicas and restarts, and a revocation anywhere is served at once', async () => {
      const a = await replica();
      const b = await replica();
      const first = await a.crl.current();
      assert.equal(first.crlNumber, 1n);
      assert.equal((await a.crl.current()).crlNumber, 1n, 'nothing changed: no new CRL');
      assert.equal((await b.crl.current()).crlNumber, 1n, 'the other replica serves the published one');

      const serial = await issued(b.store);
      await b.store.revokeCertificate(serial, 'keyCompromise', clock.now());
      const second = await a.crl.current();
      assert.equal(second.crlNumber, 2n);
      const parsed = new X509Crl(second.der);
      assert.ok(await parsed.verify({ publicKey: new X509Certificate(ca.certificateDer).publicKey }));
      assert.deepEqual(
        parsed.entries.map((e) => e.serialNumber.toLowerCase()),
        [serial],
      );
      assert.equal((await b.crl.current()).crlNumber, 2n);

      const restarted = await replica();
      assert.equal((await restarted.crl.current()).crlNumber, 2n);
    });

    it('two replicas rebuilding at once publish one CRL, and both serve it', async () => {
      const a = await replica();
      const b = await replica();
      await a.crl.current();
      const serial = await issued(a.store);
      await a.store.revokeCertificate(serial, 'superseded', clock.now());
      const [fromA, fromB] = await Promise.all([a.crl.current(), b.crl.current()]);
      assert.equal(fromA.crlNumber, fromB.crlNumber);
      assert.ok(fromA.der.equals(fromB.der));
    });

    it('is rebuilt halfway to nextUpdate, and expired certificates leave it', async () => {
      const a = await replica();
      const soon = new Date(NOW.getTime() + 2 * HOUR_MS);
      const serial = await issued(a.store, soon);
      await a.store.revokeCertificate(serial, 'keyCompromise', clock.now());
      const first = await a.crl.current();
      assert.equal(new X509Crl(first.der).entries.length, 1);
      assert.equal(first.nextUpdate.getTime() - first.thisUpdate.getTime(), 24 * HOUR_MS);
      clock.advance(11 * 3600);
      assert.equal((await a.crl.current()).crlNumber, first.crlNumber, 'still fresh');
      clock.advance(1 * 3600 + 1);
      const rebuilt = await a.crl.current();
      assert.equal(rebuilt.crlNumber, first.crlNumber + 1n);
      assert.equal(new X509Crl(rebuilt.der).entries.length, 0, 'the expired certificate left the CRL');
    });
  });
}
