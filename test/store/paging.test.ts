/**
 * Keyset paging of the certificate and request listings on SQLite and PostgreSQL: following `after`
 * page by page gives every row exactly once, newest first, also when many rows share one creation
 * time (the key breaks the tie) and when rows are added between pages.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { PageKey } from '../../src/store/certificates/store.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { allBackends } from './backends.js';
import { autosigned, fixedClock, minutesAfter, NOW } from './records.js';

async function add(store: CertmasterStore, createdAt: Date): Promise<string> {
  const { request, certificate } = autosigned({ createdAt, updatedAt: createdAt }, { createdAt });
  await store.submitRequest(request, certificate, { allowDuplicateCertificates: true, now: createdAt });
  return certificate.serial;
}

for (const backend of allBackends()) {
  describe(`paging on ${backend.name}`, () => {
    let store: CertmasterStore;

    before(() => backend.setUp());
    after(() => backend.tearDown());
    beforeEach(async () => {
      store = await openStore(await backend.freshUrl(), { clock: fixedClock });
    });
    afterEach(() => store.close());

    it('walks every certificate once, newest first, across ties in the creation time', async () => {
      const serials: string[] = [];
      // 23 rows over 5 instants: most of them share a created_at with others.
      for (let i = 0; i < 23; i++) serials.push(await add(store, minutesAfter(NOW, i % 5)));
      const seen: string[] = [];
      let afterKey: PageKey | undefined;
      let pages = 0;
      for (;;) {
        const page = await store.listCertificates({
          status: 'all',
          limit: 4,
          ...(afterKey ? { after: afterKey } : {}),
        });
        pages++;
        seen.push(...page.map((c) => c.serial));
        const last = page[page.length - 1];
        if (page.length < 4 || last === undefined) break;
        afterKey = { at: last.createdAt, key: last.serial };
      }
      assert.equal(pages, 6);
      assert.equal(new Set(seen).size, 23, 'no certificate twice');
      assert.deepEqual([...seen].sort(), [...serials].sort(), 'none missing');
      const all = await store.listCertificates({ status: 'all', limit: 100 });
      assert.deepEqual(
        seen,
        all.map((c) => c.serial),
        'the same order as one big page',
      );
    });

    it('rows added between pages neither repeat nor shift the pages that follow', async () => {
      for (let i = 0; i < 6; i++) await add(store, minutesAfter(NOW, i));
      const first = await store.listRequests({ limit: 3 });
      const last = first[first.length - 1];
      assert.ok(last);
      await add(store, minutesAfter(NOW, 10)); // newer than everything: belongs before page one
      const second = await store.listRequests({ limit: 3, after: { at: last.createdAt, key: last.id } });
      assert.equal(second.length, 3);
      const ids = new Set([...first, ...second].map((r) => r.id));
      assert.equal(ids.size, 6);
      assert.ok(second.every((r) => r.createdAt.getTime() <= last.createdAt.getTime()));
    });
  });
}
