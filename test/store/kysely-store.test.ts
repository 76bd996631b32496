import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { SerialCollisionError, type Store, type SubmitOptions } from '../../src/store/certificates/store.js';
import { LATEST_SCHEMA_VERSION, SchemaTooNewError } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import { allBackends } from './backends.js';
import {
  autosigned,
  certificateFor,
  fixedClock,
  minutesAfter,
  NOW,
  pendingRequest,
  uniqueHostName,
} from './records.js';

const strict: SubmitOptions = { allowDuplicateCertificates: false, now: NOW };

for (const backend of allBackends()) {
  describe(`store on ${backend.name}`, () => {
    let url: string;
    let store: Store;
    const reopened: Store[] = [];

    async function reopen(): Promise<Store> {
      const another = await openStore(url, { clock: fixedClock });
      reopened.push(another);
      return another;
    }

    before(() => backend.setUp());
    after(() => backend.tearDown());
    beforeEach(async () => {
      url = await backend.freshUrl();
      store = await openStore(url, { clock: fixedClock });
    });
    afterEach(async () => {
      await store.close();
      for (const another of reopened.splice(0)) {
        await another.close();
      }
    });

    describe('migrations', () => {
      it('apply on an empty database and are idempotent on reopen', async () => {
        assert.deepEqual(await store.health(), { ok: true, schemaVersion: LATEST_SCHEMA_VERSION });
        const request = pendingRequest();
        await store.submitRequest(request, null, strict);
        await store.close();

        store = await openStore(url, { clock: fixedClock });
        assert.deepEqual(await store.health(), { ok: true, schemaVersion: LATEST_SCHEMA_VERSION });
        assert.deepEqual(await store.getRequest(request.id), request);
      });

      it('refuses a database migrated by a newer certmaster', async () => {
        await store.close();
        await backend.execute(
          url,
          "INSERT INTO certmaster_migration (name, timestamp) VALUES ('9999_from_the_future', '2031-01-01')",
        );
        await assert.rejects(openStore(url, { clock: fixedClock }), (error: unknown) => {
          assert.ok(error instanceof SchemaTooNewError);
          assert.equal(error.databaseVersion, 9999);
          assert.match(error.message, /newer than this certmaster supports.*upgrade certmaster/);
          return true;
        });
      });
    });

    describe('submitRequest', () => {
      it('creates a pending request and finds it by id and by CSR digest', async () => {
        const request = pendingRequest();
        assert.deepEqual(await store.submitRequest(request, null, strict), {
          kind: 'created',
          request,
          certificate: null,
        });
        assert.deepEqual(await store.getRequest(request.id), request);
        assert.deepEqual(await store.findRequestByCsrSha256(request.csrSha256), request);
        assert.equal(await store.getRequest('no-such-id'), null);
        assert.equal(await store.findRequestByCsrSha256('00'.repeat(32)), null);
      });

      it('answers a resubmitted CSR with the existing request, unchanged, and its certificate', async () => {
        const pending = pendingRequest();
        await store.submitRequest(pending, null, strict);
        const again = pendingRequest({ csrSha256: pending.csrSha256, commonName: pending.commonName });
        assert.deepEqual(await store.submitRequest(again, null, strict), {
          kind: 'existing',
          request: pending,
          certificate: null,
        });
        assert.equal(await store.getRequest(again.id), null);

        const { request, certificate } = autosigned();
        await store.submitRequest(request, certificate, strict);
        const resubmitted = pendingRequest({ csrSha256: request.csrSha256 });
        assert.deepEqual(await store.submitRequest(resubmitted, null, strict), {
          kind: 'existing',
          request,
          certificate,
        });
      });

      it('refuses a second pending request for a name with conflict_pending', async () => {
        const first = pendingRequest();
        await store.submitRequest(first, null, strict);
        const second = pendingRequest({ commonName: first.commonName });
        assert.deepEqual(
          await store.submitRequest(second, null, { ...strict, allowDuplicateCertificates: true }),
          {
            kind: 'conflict_pending',
            existing: first,
          },
        );
        assert.equal(await store.getRequest(second.id), null);
      });

      it('refuses a name holding a valid certificate unless duplicates are allowed', async () => {
        const { request, certificate } = autosigned();
        await store.submitRequest(request, certificate, strict);
        const next = pendingRequest({ commonName: request.commonName });
        assert.deepEqual(await store.submitRequest(next, null, strict), {
          kind: 'conflict_certificate',
          existing: certificate,
        });
        assert.equal(await store.getRequest(next.id), null);

        const allowed = await store.submitRequest(next, null, {
          ...strict,
          allowDuplicateCertificates: true,
        });
        assert.equal(allowed.kind, 'created');
        assert.deepEqual(await store.getRequest(next.id), next);
      });

      it('lets an expired or a revoked certificate stand aside', async () => {
        const expired = autosigned({}, { notAfter: minutesAfter(NOW, -1) });
        await store.submitRequest(expired.request, expired.certificate, strict);
        const afterExpiry = pendingRequest({ commonName: expired.request.commonName });
        assert.equal((await store.submitRequest(afterExpiry, null, strict)).kind, 'created');

        const revoked = autosigned();
        await store.submitRequest(revoked.request, revoked.certificate, strict);
        await store.revokeCertificate(revoked.certificate.serial, 'superseded', NOW);
        const afterRevocation = pendingRequest({ commonName: revoked.request.commonName });
        assert.equal((await store.submitRequest(afterRevocation, null, strict)).kind, 'created');
      });

      it('stores an autosigned request and its certificate together', async () => {
        const { request, certificate } = autosigned();
        assert.deepEqual(await store.submitRequest(request, certificate, strict), {
          kind: 'created',
          request,
          certificate,
        });
        assert.deepEqual(await store.getRequest(request.id), request);
        assert.deepEqual(await store.getCertificate(certificate.serial), certificate);
      });

      it('stores neither the request nor the certificate when the serial collides', async () => {
        const first = autosigned();
        await store.submitRequest(first.request, first.certificate, strict);
        const second = autosigned({}, { serial: first.certificate.serial });
        await assert.rejects(
          store.submitRequest(second.request, second.certificate, strict),
          (error: unknown) => {
            assert.ok(error instanceof SerialCollisionError);
            assert.equal(error.serial, first.certificate.serial);
            return true;
          },
        );
        assert.equal(await store.getRequest(second.request.id), null);
        assert.deepEqual(await store.getCertificate(first.certificate.serial), first.certificate);
      });

      it('refuses a certificate that does not belong to the request', async () => {
        const { request } = autosigned();
        const stranger = certificateFor(pendingRequest());
        await assert.rejects(store.submitRequest(request, stranger, strict), TypeError);
        assert.equal(await store.getRequest(request.id), null);
      });
    });

    describe('approveRequest and rejectRequest', () => {
      it('approves a pending request once, storing its certificate', async () => {
        const request = pendingRequest();
        await store.submitRequest(request, null, strict);
        const certificate = certificateFor(request);
        const decidedAt = minutesAfter(NOW, 5);
        const expected = {
          ...request,
          state: 'issued' as const,
          serial: certificate.serial,
          decidedBy: 'operator:alice',
          updatedAt: decidedAt,
        };
        assert.deepEqual(
          await store.approveRequest(request.id, certificate, 'operator:alice', decidedAt),
          expected,
        );
        assert.deepEqual(await store.getRequest(request.id), expected);
        assert.deepEqual(await store.getCertificate(certificate.serial), certificate);

        const second = certificateFor(request);
        assert.equal(await store.approveRequest(request.id, second, 'operator:bob', decidedAt), null);
        assert.equal(await store.getCertificate(second.serial), null);
        assert.deepEqual(await store.getRequest(request.id), expected);
      });

      it('approves neither a rejected nor an unknown request', async () => {
        const request = pendingRequest();
        await store.submitRequest(request, null, strict);
        await store.rejectRequest(request.id, 'operator:alice', 'not ours', NOW);
        const certificate = certificateFor(request);
        assert.equal(await store.approveRequest(request.id, certificate, 'operator:bob', NOW), null);
        assert.equal(await store.getCertificate(certificate.serial), null);
        const ghost = pendingRequest();
        assert.equal(await store.approveRequest(ghost.id, certificateFor(ghost), 'operator:bob', NOW), null);
      });

      it('rejects a pending request once, with its reason', async () => {
        const request = pendingRequest();
        await store.submitRequest(request, null, strict);
        const at = minutesAfter(NOW, 1);
        const expected = {
          ...request,
          state: 'rejected' as const,
          decidedBy: 'operator:alice',
          rejectionReason: 'unknown host',
          updatedAt: at,
        };
        assert.deepEqual(
          await store.rejectRequest(request.id, 'operator:alice', 'unknown host', at),
          expected,
        );
        assert.equal(await store.rejectRequest(request.id, 'operator:bob', null, at), null);
        assert.deepEqual(await store.getRequest(request.id), expected);

        const withoutReason = pendingRequest();
        await store.submitRequest(withoutReason, null, strict);
        const rejected = await store.rejectRequest(withoutReason.id, 'operator:bob', null, at);
        assert.equal(rejected?.rejectionReason, null);
        assert.equal(rejected?.state, 'rejected');
      });

      it('frees the name: after a rejection a new request for it may be pending', async () => {
        const request = pendingRequest();
        await store.submitRequest(request, null, strict);
        await store.rejectRequest(request.id, 'operator:alice', null, NOW);
        const next = pendingRequest({ commonName: request.commonName });
        assert.equal((await store.submitRequest(next, null, strict)).kind, 'created');
      });
    });

    describe('lists', () => {
      it('filters requests by state and name and returns the newest first', async () => {
        const name = uniqueHostName();
        const oldest = pendingRequest({ commonName: name, createdAt: minutesAfter(NOW, 1) });
        await store.submitRequest(oldest, null, strict);
        await store.rejectRequest(oldest.id, 'operator:alice', null, NOW);
        const middle = autosigned({ commonName: name, createdAt: minutesAfter(NOW, 2) });
        await store.submitRequest(middle.request, middle.certificate, {
          ...strict,
          allowDuplicateCertificates: true,
        });
        const newest = pendingRequest({ commonName: name, createdAt: minutesAfter(NOW, 3) });
        await store.submitRequest(newest, null, { ...strict, allowDuplicateCertificates: true });
        const elsewhere = pendingRequest({ createdAt: minutesAfter(NOW, 4) });
        await store.submitRequest(elsewhere, null, strict);

        const ids = (list: { id: string }[]) => list.map((request) => request.id);
        assert.deepEqual(ids(await store.listRequests({ commonName: name })), [
          newest.id,
          middle.request.id,
          oldest.id,
        ]);
        assert.deepEqual(ids(await store.listRequests({})), [
          elsewhere.id,
          newest.id,
          middle.request.id,
          oldest.id,
        ]);
        assert.deepEqual(ids(await store.listRequests({ state: 'pending' })), [elsewhere.id, newest.id]);
        assert.deepEqual(ids(await store.listRequests({ state: 'pending', commonName: name })), [newest.id]);
        assert.deepEqual(ids(await store.listRequests({ state: 'issued' })), [middle.request.id]);
        assert.deepEqual(ids(await store.listRequests({ state: 'rejected' })), [oldest.id]);
        assert.deepEqual(ids(await store.listRequests({ limit: 2 })), [elsewhere.id, newest.id]);
        assert.deepEqual(await store.listRequests({ commonName: uniqueHostName() }), []);
        await assert.rejects(store.listRequests({ limit: 0 }), RangeError);
      });

      it('filters certificates by status at the clock and returns the newest first', async () => {
        const name = uniqueHostName();
        const expired = autosigned(
          { commonName: name, createdAt: minutesAfter(NOW, -200) },
          { notAfter: minutesAfter(NOW, -10) },
        );
        const revoked = autosigned({ commonName: name, createdAt: minutesAfter(NOW, -100) });
        const valid = autosigned({ commonName: name, createdAt: minutesAfter(NOW, -50) });
        const other = autosigned({ createdAt: minutesAfter(NOW, -1) });
        const loose = { ...strict, allowDuplicateCertificates: true };
        for (const { request, certificate } of [expired, revoked, valid, other]) {
          await store.submitRequest(request, certificate, loose);
        }
        await store.revokeCertificate(revoked.certificate.serial, 'keyCompromise', NOW);

        const serials = (list: { serial: string }[]) => list.map((certificate) => certificate.serial);
        assert.deepEqual(serials(await store.listCertificates({ status: 'all', commonName: name })), [
          valid.certificate.serial,
          revoked.certificate.serial,
          expired.certificate.serial,
        ]);
        assert.deepEqual(serials(await store.listCertificates({ status: 'valid' })), [
          other.certificate.serial,
          valid.certificate.serial,
        ]);
        assert.deepEqual(serials(await store.listCertificates({ status: 'revoked' })), [
          revoked.certificate.serial,
        ]);
        assert.deepEqual(serials(await store.listCertificates({ status: 'all', limit: 1 })), [
          other.certificate.serial,
        ]);
      });
    });

    describe('revokeCertificate', () => {
      it('revokes once: a second revocation keeps the first reason and time', async () => {
        const { request, certificate } = autosigned();
        await store.submitRequest(request, certificate, strict);
        const firstAt = minutesAfter(NOW, 1);
        const expected = { ...certificate, revokedAt: firstAt, revocationReason: 'keyCompromise' };
        assert.deepEqual(
          await store.revokeCertificate(certificate.serial, 'keyCompromise', firstAt),
          expected,
        );
        assert.deepEqual(
          await store.revokeCertificate(certificate.serial, 'superseded', minutesAfter(NOW, 2)),
          expected,
        );
        assert.deepEqual(await store.getCertificate(certificate.serial), expected);
        assert.equal(await store.revokeCertificate('0badc0de', 'keyCompromise', NOW), null);
      });
    });

    describe('cleanHost', () => {
      it('removes the requests, revokes the certificates and keeps them recorded', async () => {
        const name = uniqueHostName();
        const loose = { ...strict, allowDuplicateCertificates: true };
        const older = autosigned({ commonName: name });
        const alreadyRevoked = autosigned({ commonName: name });
        const pending = pendingRequest({ commonName: name });
        const bystander = autosigned();
        for (const { request, certificate } of [older, alreadyRevoked, bystander]) {
          await store.submitRequest(request, certificate, loose);
        }
        await store.submitRequest(pending, null, loose);
        await store.revokeCertificate(alreadyRevoked.certificate.serial, 'superseded', NOW);

        const at = minutesAfter(NOW, 30);
        assert.deepEqual(await store.cleanHost(name, at), {
          requestsRemoved: 3,
          certificatesRevoked: [older.certificate.serial],
        });
        assert.deepEqual(await store.listRequests({ commonName: name }), []);
        assert.deepEqual(await store.getCertificate(older.certificate.serial), {
          ...older.certificate,
          revokedAt: at,
          revocationReason: 'cessationOfOperation',
        });
        assert.equal(
          (await store.getCertificate(alreadyRevoked.certificate.serial))?.revocationReason,
          'superseded',
        );
        assert.deepEqual(await store.getRequest(bystander.request.id), bystander.request);
        assert.deepEqual(await store.getCertificate(bystander.certificate.serial), bystander.certificate);
        assert.deepEqual(await store.cleanHost(name, at), { requestsRemoved: 0, certificatesRevoked: [] });

        const fresh = pendingRequest({ commonName: name, csrSha256: pending.csrSha256 });
        assert.equal((await store.submitRequest(fresh, null, strict)).kind, 'created');
      });
    });

    describe('concurrency', () => {
      it('fails only the colliding serial among writes issued together', async () => {
        const first = autosigned();
        await store.submitRequest(first.request, first.certificate, strict);
        const pendingForApproval = pendingRequest();
        await store.submitRequest(pendingForApproval, null, strict);

        // Issued in one turn of the event loop: on SQLite they share one group-commit transaction.
        const colliding = autosigned({}, { serial: first.certificate.serial });
        const before = autosigned();
        const after = autosigned();
        const approval = certificateFor(pendingForApproval);
        const results = await Promise.allSettled([
          store.submitRequest(before.request, before.certificate, strict),
          store.submitRequest(colliding.request, colliding.certificate, strict),
          store.approveRequest(pendingForApproval.id, approval, 'operator:alice', NOW),
          store.submitRequest(after.request, after.certificate, strict),
          store.revokeCertificate(first.certificate.serial, 'superseded', NOW),
        ]);

        assert.equal(results[0]?.status, 'fulfilled');
        assert.ok(results[1]?.status === 'rejected' && results[1].reason instanceof SerialCollisionError);
        assert.equal(results[2]?.status, 'fulfilled');
        assert.equal(results[3]?.status, 'fulfilled');
        assert.equal(results[4]?.status, 'fulfilled');

        await store.close();
        store = await openStore(url, { clock: fixedClock });
        assert.deepEqual(await store.getRequest(before.request.id), before.request);
        assert.deepEqual(await store.getRequest(after.request.id), after.request);
        assert.equal(await store.getRequest(colliding.request.id), null);
        assert.equal((await store.getRequest(pendingForApproval.id))?.state, 'issued');
        assert.deepEqual(await store.getCertificate(approval.serial), approval);
        assert.equal((await store.getCertificate(first.certificate.serial))?.revocationReason, 'superseded');
      });

      it('resolves 500 concurrent submissions, all present after reopening', async () => {
        const submissions = Array.from({ length: 500 }, (_, index) =>
          index % 2 === 0 ? autosigned() : { request: pendingRequest(), certificate: null },
        );
        const outcomes = await Promise.all(
          submissions.map(({ request, certificate }) => store.submitRequest(request, certificate, strict)),
        );
        assert.ok(outcomes.every((outcome) => outcome.kind === 'created'));

        await store.close();
        store = await openStore(url, { clock: fixedClock });
        assert.equal((await store.listRequests({})).length, 500);
        for (const { request, certificate } of submissions) {
          assert.deepEqual(await store.getRequest(request.id), request);
          if (certificate !== null) {
            assert.deepEqual(await store.getCertificate(certificate.serial), certificate);
          }
        }
      });

      it('lets exactly one of two different CSRs for a name become pending, across two stores', async () => {
        const other = await reopen();
        for (let round = 0; round < 5; round++) {
          const name = uniqueHostName();
          const mine = pendingRequest({ commonName: name });
          const theirs = pendingRequest({ commonName: name });
          const outcomes = await Promise.all([
            store.submitRequest(mine, null, strict),
            other.submitRequest(theirs, null, strict),
          ]);
          const kinds = outcomes.map((outcome) => outcome.kind).sort();
          assert.deepEqual(kinds, ['conflict_pending', 'created']);
          assert.equal((await store.listRequests({ commonName: name, state: 'pending' })).length, 1);
        }
      });

      it('lets exactly one of two autosigned CSRs for a name through, across two stores', async () => {
        const other = await reopen();
        for (let round = 0; round < 5; round++) {
          const name = uniqueHostName();
          const mine = autosigned({ commonName: name });
          const theirs = autosigned({ commonName: name });
          const outcomes = await Promise.all([
            store.submitRequest(mine.request, mine.certificate, strict),
            other.submitRequest(theirs.request, theirs.certificate, strict),
          ]);
          const kinds = outcomes.map((outcome) => outcome.kind).sort();
          assert.deepEqual(kinds, ['conflict_certificate', 'created']);
        }
      });

      it('answers the same CSR submitted twice at once with created and existing', async () => {
        const other = await reopen();
        const request = pendingRequest();
        const duplicate = {
          ...pendingRequest({ commonName: request.commonName }),
          csrSha256: request.csrSha256,
        };
        const outcomes = await Promise.all([
          store.submitRequest(request, null, strict),
          other.submitRequest(duplicate, null, strict),
        ]);
        assert.deepEqual(outcomes.map((outcome) => outcome.kind).sort(), ['created', 'existing']);
      });

      it('drains accepted writes on close and refuses writes after it', async () => {
        const request = pendingRequest();
        const submitted = store.submitRequest(request, null, strict);
        await store.close();
        assert.equal((await submitted).kind, 'created');
        await assert.rejects(store.submitRequest(pendingRequest(), null, strict), /closed/);

        store = await openStore(url, { clock: fixedClock });
        assert.deepEqual(await store.getRequest(request.id), request);
      });
    });
  });
}
