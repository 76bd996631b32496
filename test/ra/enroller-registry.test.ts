/**
 * The seam's promise: a new kind of caller (here a mutual-TLS renewal) is one more Enroller and one
 * more registration. The RA below is the unchanged RegistrationAuthority over a real instance.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { initDataDir } from '../../src/instance/init.js';
import { type Instance, openInstance, policyFrom } from '../../src/instance/open.js';
import type { EnrollDecision, Enroller } from '../../src/ra/enrollers/index.js';
import { defaultEnrollers } from '../../src/ra/enrollers/index.js';
import { RegistrationAuthority } from '../../src/ra/service.js';
import { type Principal, systemClock } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { opensslCsr } from '../helpers/openssl.js';

class RenewalEnroller implements Enroller {
  readonly kind = 'client_certificate_renewal';
  readonly methods = ['client_certificate'] as const;
  issued: string[] = [];
  accepts(): boolean {
    return true;
  }
  async authorizeSign(principal: Principal, names: readonly string[]): Promise<EnrollDecision> {
    return names.every((n) => n === principal.name)
      ? { kind: 'sign', decidedBy: `renewal:${principal.name}`, via: 'identity' }
      : {
          kind: 'refuse',
          reason: 'name_not_allowed',
          detail: 'a renewal keeps its names',
          hint: 'ask for the names of the certificate you hold',
          facts: {
            code: 'names_not_covered',
            principal: principal.name,
            by: 'presented_certificate',
            allowed: [principal.name],
            outside: names.filter((n) => n !== principal.name),
          },
        };
  }
  async onIssued(principal: Principal): Promise<void> {
    this.issued.push(principal.name);
  }
}

const tmp = tempDir('enroller-registry');
let instance: Instance;
before(async () => {
  const dataDir = join(tmp.path, 'data');
  await initDataDir({
    dataDir,
    keyType: 'ec-p256',
    caSubject: 'CN=test CA',
    caValidityDays: 365,
    serverValidityDays: 30,
    serverNames: [],
    clock: systemClock,
  });
  instance = await openInstance(dataDir);
});
after(async () => {
  await instance.close();
  tmp.remove();
});

test('a new enroller kind is registered without touching the RA', async () => {
  const renewal = new RenewalEnroller();
  const enrollers = defaultEnrollers({ enrollmentUses: instance.store, clock: systemClock }).register(
    renewal,
  );
  const ra = new RegistrationAuthority({
    store: instance.store,
    signer: instance.ca,
    triggers: { run: async () => ({ ok: true }) },
    clock: systemClock,
    policy: () => policyFrom(instance.config(), []),
    enrollers,
  });
  const principal: Principal = {
    name: 'renew.example.com',
    anonymous: false,
    roles: [],
    scopes: ['requests:submit'],
    method: 'client_certificate',
  };
  const actor = {
    name: principal.name,
    requestId: 'test',
    address: '127.0.0.1',
    method: 'client_certificate',
    credentialId: null,
  };
  const ok = opensslCsr(tmp.path, 'ok', '/CN=renew.example.com');
  const view = await ra.submit({ csrPem: ok.csrPem, principal, actor });
  assert.equal(view.request.state, 'issued');
  assert.equal(view.request.decidedBy, 'renewal:renew.example.com');
  assert.ok(view.certificate);
  assert.deepEqual(renewal.issued, ['renew.example.com']);

  const other = opensslCsr(tmp.path, 'other', '/CN=other.example.com');
  await assert.rejects(
    () => ra.submit({ csrPem: other.csrPem, principal, actor }),
    (e: Error & { reason?: string }) => e.reason === 'name_not_allowed',
  );
  assert.deepEqual(renewal.issued, ['renew.example.com']);

  // Without the registration the same caller falls back to the autosign policy and waits.
  const plain = new RegistrationAuthority({
    store: instance.store,
    signer: instance.ca,
    triggers: { run: async () => ({ ok: true }) },
    clock: systemClock,
    policy: () => policyFrom(instance.config(), []),
    enrollers: defaultEnrollers({ enrollmentUses: instance.store, clock: systemClock }),
  });
  const queued = opensslCsr(tmp.path, 'queued', '/CN=queued.example.com');
  const waiting = await plain.submit({
    csrPem: queued.csrPem,
    principal: { ...principal, name: 'queued.example.com' },
    actor,
  });
  assert.equal(waiting.request.state, 'pending');
});
