/** The ACME repository on SQLite and PostgreSQL: single-use nonces, one account per key, order state. */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import type { AcmeAccount, AcmeAuthorization, AcmeOrder } from '../../src/domain/acme.js';
import { AcmeKeyTakenError } from '../../src/store/acme/acme-store.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { allBackends } from './backends.js';
import { fixedClock, NOW } from './records.js';

const later = (ms: number): Date => new Date(NOW.getTime() + ms);

function account(id: string, thumbprint: string): AcmeAccount {
  return {
    id,
    thumbprint,
    jwk: '{"kty":"OKP"}',
    status: 'valid',
    contact: ['mailto:ops@example.com'],
    namePatterns: null,
    eabTokenId: null,
    createdAt: NOW,
  };
}

for (const backend of allBackends()) {
  describe(`ACME store on ${backend.name}`, () => {
    let url: string;
    let store: CertmasterStore;
    before(() => backend.setUp());
    after(() => backend.tearDown());
    beforeEach(async () => {
      url = await backend.freshUrl();
      store = await openStore(url, { clock: fixedClock });
    });
    afterEach(() => store.close());

    it('spends a nonce once, refuses an expired one, and keeps at most the cap', async () => {
      await store.acme.createNonce('n1', later(60_000), NOW, 1000);
      await store.acme.createNonce('old', later(1000), NOW, 1000);
      assert.equal(await store.acme.consumeNonce('n1', NOW), true);
      assert.equal(await store.acme.consumeNonce('n1', NOW), false);
      assert.equal(await store.acme.consumeNonce('old', later(2000)), false);
      for (let i = 0; i < 5; i++) await store.acme.createNonce(`c${i}`, later(10_000 + i), NOW, 3);
      assert.equal(await store.acme.consumeNonce('c0', NOW), false, 'the oldest went beyond the cap');
      assert.equal(await store.acme.consumeNonce('c4', NOW), true);
    });

    it('keeps one account per key, across a reopen', async () => {
      const first = await store.acme.createAccount(account('a1', 'tp'));
      const second = await store.acme.createAccount(account('a2', 'tp'));
      assert.equal(first.id, 'a1');
      assert.equal(second.id, 'a1');
      const again = await openStore(url, { clock: fixedClock });
      try {
        assert.equal((await again.acme.findAccountByThumbprint('tp'))?.contact[0], 'mailto:ops@example.com');
      } finally {
        await again.close();
      }
    });

    it('a key change to a key another account holds is AcmeKeyTakenError, not a database error', async () => {
      await store.acme.createAccount(account('k1', 'tp-one'));
      await store.acme.createAccount(account('k2', 'tp-two'));
      await assert.rejects(
        store.acme.updateAccount('k2', { jwk: '{}', thumbprint: 'tp-one' }),
        (e: unknown) => e instanceof AcmeKeyTakenError,
      );
      assert.equal((await store.acme.getAccount('k2'))?.thumbprint, 'tp-two', 'unchanged');
    });

    it('moves an order only from the state it is in, and saves authorizations compare-and-set', async () => {
      const order: AcmeOrder = {
        id: 'o1',
        accountId: 'a1',
        status: 'pending',
        identifiers: [{ type: 'dns', value: 'www.example.com' }],
        authorizationIds: ['z1'],
        expiresAt: later(3600_000),
        error: null,
        requestId: null,
        serial: null,
        createdAt: NOW,
        updatedAt: NOW,
      };
      const authz: AcmeAuthorization = {
        id: 'z1',
        orderId: 'o1',
        accountId: 'a1',
        identifier: { type: 'dns', value: 'www.example.com' },
        wildcard: false,
        status: 'pending',
        token: 'tok',
        challenges: [{ type: 'http-01', status: 'pending', validated: null, error: null, seen: null }],
        expiresAt: later(3600_000),
        updatedAt: NOW,
      };
      await store.acme.createOrder(order, [authz]);
      assert.equal(await store.acme.countOrdersSince('a1', NOW), 1);
      const ready = await store.acme.transitionOrder('o1', 'pending', {
        status: 'ready',
        updatedAt: later(1),
      });
      assert.equal(ready?.status, 'ready');
      assert.equal(
        await store.acme.transitionOrder('o1', 'pending', { status: 'invalid', updatedAt: later(2) }),
        null,
      );
      const validated = { ...authz, status: 'valid' as const, updatedAt: later(5) };
      validated.challenges = [
        { type: 'http-01', status: 'valid', validated: later(5), error: null, seen: 'GET ...' },
      ];
      assert.equal(await store.acme.saveAuthorization(validated, NOW), true);
      assert.equal(await store.acme.saveAuthorization(validated, NOW), false, 'stale expectation');
      const read = await store.acme.getAuthorization('z1');
      assert.equal(read?.challenges[0]?.validated?.getTime(), later(5).getTime());
    });

    it('counts valid orders under a registered name since a time, with the oldest (per-name limits)', async () => {
      const make = (id: string, names: string[], status: AcmeOrder['status'], at: number): AcmeOrder => ({
        id,
        accountId: 'a1',
        status,
        identifiers: names.map((value) => ({ type: 'dns' as const, value })),
        authorizationIds: [],
        expiresAt: later(3600_000),
        error: null,
        requestId: null,
        serial: null,
        createdAt: later(at),
        updatedAt: later(at),
      });
      await store.acme.createOrder(make('v1', ['www.count.test'], 'valid', 10), []);
      await store.acme.createOrder(make('v2', ['count.test', 'x.other.test'], 'valid', 20), []);
      await store.acme.createOrder(make('v3', ['a.b.count.test'], 'valid', 30), []);
      await store.acme.createOrder(make('p1', ['pending.count.test'], 'pending', 40), []);
      await store.acme.createOrder(make('n1', ['notcount.test'], 'valid', 50), []);
      await store.acme.createOrder(make('old', ['old.count.test'], 'valid', -10), []);
      const all = await store.acme.countValidOrdersUnder('count.test', NOW);
      assert.deepEqual(all, { count: 3, oldest: later(10) });
      assert.equal((await store.acme.countValidOrdersUnder('count.test', later(15))).count, 2);
      assert.equal((await store.acme.countValidOrdersUnder('other.test', NOW)).count, 1);
      assert.deepEqual(await store.acme.countValidOrdersUnder('none.test', NOW), { count: 0, oldest: null });
    });
  });
}
