/**
 * The RA's issuance and its audit records, on SQLite and PostgreSQL, through the real RA, store and
 * audit log: autosigned, the request's record and the success's share the certificate's transaction;
 * an enroller that spends a credential (onIssued, a write of its own) finds the request's record
 * already durable; and when the records cannot be written nothing is stored and the caller is refused
 * as for any audit log that cannot be written, the attempt still on record where the log can take it.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { AuditUnavailableError } from '../../src/audit/audit-errors.js';
import type { Actor } from '../../src/audit/event.js';
import type { AuditRecord } from '../../src/audit/types.js';
import { setSetting } from '../../src/config/file.js';
import { initDataDir } from '../../src/instance/init.js';
import { type Instance, openInstance, policyFrom } from '../../src/instance/open.js';
import type { EnrollDecision, Enroller } from '../../src/ra/enrollers/index.js';
import { EnrollerRegistry } from '../../src/ra/enrollers/index.js';
import { RegistrationAuthority } from '../../src/ra/service.js';
import { type Principal, systemClock } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { opensslCsr } from '../helpers/openssl.js';
import { allBackends, refuseAuditPhase } from '../store/backends.js';

const SPENDER: Principal = { name: 'spender', anonymous: false, roles: [], scopes: [], method: 'api_token' };
const ANONYMOUS: Principal = {
  name: 'anonymous',
  anonymous: true,
  roles: [],
  scopes: [],
  method: 'anonymous',
};

let actors = 0;
function actor(): Actor {
  actors++;
  return {
    name: 'anonymous',
    requestId: `issuance-${actors}`,
    address: '192.0.2.7',
    method: 'anonymous',
    credentialId: null,
  };
}

/** Speaks for a "spender" principal: signs its names and, like an enrollment token, spends a use. */
class SpendingEnroller implements Enroller {
  readonly kind = 'spending';
  readonly methods = ['api_token'] as const;
  /** What the audit log held for the request when the credential was spent. */
  seenAtSpend: AuditRecord[][] = [];
  constructor(private readonly records: (requestId: string) => Promise<AuditRecord[]>) {}
  accepts(principal: Principal): boolean {
    return principal.name === 'spender';
  }
  async authorizeSign(): Promise<EnrollDecision> {
    return { kind: 'sign', decidedBy: 'spending', via: 'identity' };
  }
  async onIssued(): Promise<void> {
    this.seenAtSpend.push(await this.records(`issuance-${actors}`));
  }
}

for (const backend of allBackends()) {
  describe(`issuance records through the RA on ${backend.name}`, () => {
    const tmp = tempDir(`issuance-records-${backend.name}`);
    let instance: Instance;
    let url: string;
    let dataDir: string;
    let count = 0;

    before(() => backend.setUp());
    after(async () => {
      await backend.tearDown();
      tmp.remove();
    });
    beforeEach(async () => {
      count++;
      dataDir = join(tmp.path, `data-${count}`);
      await initDataDir({
        dataDir,
        keyType: 'ec-p256',
        caSubject: 'CN=test CA',
        caValidityDays: 365,
        serverValidityDays: 30,
        serverNames: [],
        clock: systemClock,
      });
      setSetting(join(dataDir, 'certmaster.toml'), 'ra.autosign', 'all');
      url = backend.name === 'sqlite' ? `sqlite:${join(dataDir, 'certmaster.db')}` : await backend.freshUrl();
      instance = await openInstance(dataDir, { storeUrl: url });
    });
    afterEach(() => instance.close());

    const records = (requestId: string) => instance.store.queryAudit({ requestId });

    /** The RA with only the spending enroller, so that it speaks for an API-token principal. */
    function spendingRa() {
      const spending = new SpendingEnroller(records);
      const ra = new RegistrationAuthority({
        store: instance.store,
        signer: instance.ca,
        triggers: { run: async () => ({ ok: true }) },
        clock: systemClock,
        policy: () => policyFrom(instance.config(), []),
        enrollers: new EnrollerRegistry().register(spending),
        audit: instance.auditSink,
        recordsWithin: instance.audit,
      });
      return { ra, spending };
    }

    it('writes the request and its success next to each other, naming the certificate', async () => {
      const who = actor();
      const view = await instance.ra.submit({
        csrPem: opensslCsr(tmp.path, `plain-${count}`, '/CN=plain.example.com').csrPem,
        principal: ANONYMOUS,
        actor: who,
      });
      assert.equal(view.request.state, 'issued');
      const written = await records(who.requestId);
      assert.deepEqual(
        written.map((r) => [r.phase, r.outcome, r.seq - (written[0]?.seq ?? 0)]),
        [
          ['request', 'success', 0],
          ['response', 'success', 1],
        ],
      );
      assert.equal(written[1]?.details.serial, view.certificate?.serial);
      assert.equal((await instance.audit.verify()).ok, true);
    });

    it('makes the request durable before an enroller spends a credential', async () => {
      const { ra, spending } = spendingRa();
      const who = actor();
      const view = await ra.submit({
        csrPem: opensslCsr(tmp.path, `spent-${count}`, '/CN=spender').csrPem,
        principal: SPENDER,
        actor: who,
      });
      assert.equal(view.request.state, 'issued');
      assert.deepEqual(
        spending.seenAtSpend.map((seen) => seen.map((r) => r.phase)),
        [['request']],
        'the request was on record when its credential was spent',
      );
      assert.deepEqual(
        (await records(who.requestId)).map((r) => r.phase),
        ['request', 'response'],
        'and recorded once',
      );
    });

    it('keeps the certificate of a spent credential when its success cannot be recorded, for the retry to find', async () => {
      const { ra, spending } = spendingRa();
      for (const statement of refuseAuditPhase(backend.name, 'response'))
        await backend.execute(url, statement);
      const { csrPem } = opensslCsr(tmp.path, `spent-once-${count}`, '/CN=spender');
      await assert.rejects(
        ra.submit({ csrPem, principal: SPENDER, actor: actor() }),
        (error: unknown) => error instanceof AuditUnavailableError,
      );
      assert.equal(spending.seenAtSpend.length, 1, 'spent once');
      assert.equal(
        (await instance.store.listCertificates({ status: 'all', commonName: 'spender' })).length,
        1,
      );
      const retry = await ra.submit({ csrPem, principal: SPENDER, actor: actor() }).catch((e: unknown) => e);
      // The log still refuses the success record, but the retry finds the certificate without spending.
      assert.ok(retry instanceof AuditUnavailableError);
      assert.equal(spending.seenAtSpend.length, 1, 'not spent again');
      assert.equal(
        (await instance.store.listCertificates({ status: 'all', commonName: 'spender' })).length,
        1,
      );
    });

    it('stores nothing and refuses with AuditUnavailableError when the records cannot be written', async () => {
      for (const statement of refuseAuditPhase(backend.name, 'response'))
        await backend.execute(url, statement);
      const who = actor();
      await assert.rejects(
        instance.ra.submit({
          csrPem: opensslCsr(tmp.path, `refused-${count}`, '/CN=refused.example.com').csrPem,
          principal: ANONYMOUS,
          actor: who,
        }),
        (error: unknown) => error instanceof AuditUnavailableError && error.reason === 'write_failed',
      );
      assert.deepEqual(
        await instance.store.listCertificates({ status: 'all', commonName: 'refused.example.com' }),
        [],
      );
      assert.deepEqual(await instance.store.listRequests({ commonName: 'refused.example.com' }), []);
      assert.deepEqual(
        (await records(who.requestId)).map((r) => r.phase),
        ['request'],
        'the attempt stays on record',
      );
    });
  });
}
