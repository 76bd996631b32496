import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OpaqueTokens } from '../../src/auth/tokens/opaque-tokens.js';
import { initDataDir } from '../../src/instance/init.js';
import { type Instance, openInstance } from '../../src/instance/open.js';
import {
  certificateFacts,
  countExpiringCertificates,
  type ExpiringItem,
  expiryWarning,
  humanDuration,
  instanceExpirySources,
  listExpiring,
} from '../../src/ops/expiry.js';
import { systemClock } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';
import { autosigned } from '../store/records.js';

const DAY = 86_400;
const DAY_MS = DAY * 1000;

describe('listExpiring over a real data directory', () => {
  const tmp = tempDir('expiry');
  let instance: Instance;
  let clock: MovableClock;
  let t0: number;
  const ids: Record<string, string> = {};

  async function certificate(name: string, notAfterDays: number, options: { revoke?: boolean } = {}) {
    const { request, certificate } = autosigned(
      { commonName: name, createdAt: new Date(t0), updatedAt: new Date(t0) },
      { notAfter: new Date(t0 + notAfterDays * DAY_MS), createdAt: new Date(t0) },
    );
    await instance.store.submitRequest(request, certificate, {
      allowDuplicateCertificates: true,
      now: new Date(t0),
    });
    if (options.revoke)
      await instance.store.revokeCertificate(certificate.serial, 'superseded', new Date(t0));
    return certificate.serial;
  }

  before(async () => {
    const dataDir = join(tmp.path, 'data');
    await initDataDir({
      dataDir,
      keyType: 'ec-p256',
      caSubject: 'CN=expiry test CA',
      caValidityDays: 365,
      serverValidityDays: 30,
      serverNames: [],
      clock: systemClock,
      admin: { name: 'admin', password: 'lantern-orchard-basalt-19', digest: false },
    });
    t0 = Date.now();
    clock = new MovableClock(t0);
    instance = await openInstance(dataDir, { clock });

    ids.renewedOld = await certificate('a.fleet.example.com', 5);
    ids.renewedNew = await certificate('a.fleet.example.com', 90);
    ids.soon = await certificate('b.fleet.example.com', 10);
    ids.later = await certificate('c.fleet.example.com', 60);
    ids.revoked = await certificate('d.fleet.example.com', 3, { revoke: true });
    ids.justExpired = await certificate('e.fleet.example.com', -2);
    ids.longExpired = await certificate('f.fleet.example.com', -60);

    const tokens = new OpaqueTokens({ store: instance.store, clock });
    const api = await tokens.create({
      kind: 'api',
      owner: 'admin',
      scopes: ['requests:read'],
      ttlSeconds: 3 * DAY,
      description: 'nightly report',
    });
    ids.api = api.record.id;
    await tokens.create({ kind: 'api', owner: 'admin', scopes: ['requests:read'] });
    const revoked = await tokens.create({
      kind: 'api',
      owner: 'admin',
      scopes: ['requests:read'],
      ttlSeconds: 2 * DAY,
    });
    await instance.store.revokeToken(revoked.record.id, new Date(t0));
    const enroll = await tokens.create({
      kind: 'enrollment',
      owner: 'admin',
      namePattern: 'web-*.example.com',
      ttlSeconds: 3600,
    });
    ids.enroll = enroll.record.id;
    const usedUp = await tokens.create({
      kind: 'enrollment',
      owner: 'admin',
      namePattern: 'db-*.example.com',
      uses: 1,
      ttlSeconds: 3600,
    });
    assert.equal(await instance.store.consumeEnrollmentUse(usedUp.record.id, new Date(t0)), true);
  });

  after(async () => {
    await instance.close();
    tmp.remove();
  });

  const brief = (items: ExpiringItem[]) => items.map((i) => `${i.kind} ${i.name}`);

  it('lists what expires within the window, soonest first, expired things first of all', async () => {
    const items = await listExpiring(instanceExpirySources(instance), {
      now: clock.now(),
      withinSeconds: 30 * DAY,
    });
    assert.deepEqual(brief(items), [
      'certificate e.fleet.example.com',
      'enrollment_token web-*.example.com',
      'api_token admin: nightly report',
      'certificate b.fleet.example.com',
      'server_certificate localhost',
    ]);
    const [expired, enroll, api, soon] = items;
    assert.equal(expired?.id, ids.justExpired);
    assert.equal(expired?.secondsLeft, -2 * DAY);
    assert.equal(enroll?.id, ids.enroll);
    assert.equal(enroll?.secondsLeft, 3600);
    assert.equal(api?.id, ids.api);
    assert.equal(soon?.id, ids.soon);
    assert.equal(soon?.secondsLeft, 10 * DAY);
    assert.equal(soon?.expiresAt.getTime(), t0 + 10 * DAY_MS);
  });

  it('widens and narrows with the window', async () => {
    const wide = await listExpiring(instanceExpirySources(instance), {
      now: clock.now(),
      withinSeconds: 100 * DAY,
    });
    // A renewed host counts by its new certificate; a revoked one not at all.
    assert.ok(wide.some((i) => i.id === ids.later));
    assert.ok(wide.some((i) => i.id === ids.renewedNew));
    assert.ok(!wide.some((i) => i.id === ids.renewedOld || i.id === ids.revoked || i.id === ids.longExpired));
    const narrow = await listExpiring(instanceExpirySources(instance), {
      now: clock.now(),
      withinSeconds: 60,
    });
    assert.deepEqual(brief(narrow), ['certificate e.fleet.example.com']);
  });

  it('moves with the clock: a year on, the CA and the server certificate lead the list', async () => {
    clock.set(new Date(t0 + 400 * DAY_MS));
    try {
      const items = await listExpiring(instanceExpirySources(instance), {
        now: clock.now(),
        withinSeconds: 30 * DAY,
      });
      // Leaves and tokens that expired more than 30 days ago are history; the CA never is.
      assert.deepEqual(brief(items), ['server_certificate localhost', 'ca expiry test CA']);
      assert.ok(items.every((i) => i.secondsLeft < 0));
      assert.equal(items[1]?.id, certificateFacts(instance.ca.certificatePem).serial);
    } finally {
      clock.set(new Date(t0));
    }
  });

  it('counts valid certificates expiring within each window from one read', async () => {
    assert.deepEqual(
      await countExpiringCertificates(instanceExpirySources(instance), clock.now(), [7, 30, 100]),
      // a was renewed, d revoked, e and f expired: 30 days catches b, 100 days c and a's new one too.
      [0, 1, 3],
    );
  });
});

describe('certificateFacts', () => {
  it('reads serial, common name and notAfter from a PEM certificate', async () => {
    const tmp = tempDir('facts');
    const dataDir = join(tmp.path, 'd');
    await initDataDir({
      dataDir,
      keyType: 'ec-p256',
      caSubject: 'CN=facts CA,O=Example',
      caValidityDays: 10,
      serverValidityDays: 5,
      serverNames: [],
      clock: systemClock,
    });
    const instance = await openInstance(dataDir);
    try {
      const facts = certificateFacts(instance.ca.certificatePem);
      assert.equal(facts.name, 'facts CA');
      assert.match(facts.serial, /^[0-9a-f]+$/);
      assert.equal(facts.notAfter.getTime(), instance.ca.notAfter.getTime());
    } finally {
      await instance.close();
      tmp.remove();
    }
  });
});

describe('expiryWarning', () => {
  const now = new Date('2030-01-10T00:00:00Z');
  const at = (days: number) => new Date(now.getTime() + days * DAY_MS);

  it('warns in the last fifth of a lifetime', () => {
    // 90-day certificate: quiet with 20 days left, warns with 17.
    assert.equal(expiryWarning('certificate', 'web1', at(20), now, at(-70)), null);
    assert.equal(
      expiryWarning('certificate', 'web1', at(17), now, at(-73)),
      'warning: the certificate "web1" expires in 17 days (2030-01-27T00:00:00.000Z); request a new certificate before then',
    );
  });

  it('warns in the last 7 days of anything that lives longer than two weeks', () => {
    // A year-long token with 6 days left is well past four fifths of its life anyway; a 20-day one is not.
    assert.match(expiryWarning('api_token', 'ci', at(6), now, at(-14)) ?? '', /expires in 6 days/);
    assert.equal(expiryWarning('api_token', 'ci', at(8), now, at(-12)), null);
  });

  it('does not nag about short-lived credentials for most of their life', () => {
    const issued = new Date(now.getTime() - 5 * 60_000);
    assert.equal(expiryWarning('session', 'alice', new Date(now.getTime() + 10 * 60_000), now, issued), null);
    assert.match(
      expiryWarning('session', 'alice', new Date(now.getTime() + 60_000), now, issued) ?? '',
      /^warning: the login session "alice" expires in 60 seconds .*; log in again before then$/,
    );
  });

  it('without a start, warns in the last 7 days', () => {
    assert.equal(expiryWarning('api_token', 'ci', at(8), now), null);
    assert.match(expiryWarning('api_token', 'ci', at(6.5), now) ?? '', /expires in 6 days/);
  });

  it('says so when it has already expired', () => {
    assert.equal(
      expiryWarning('certificate', 'web1', at(-3), now, at(-93)),
      'warning: the certificate "web1" expired 3 days ago (2030-01-07T00:00:00.000Z); request a new certificate',
    );
  });

  it('quotes a name so that it cannot pass for part of the message', () => {
    assert.match(expiryWarning('certificate', 'x"\n', at(1), now) ?? '', /"x\\"\\n"/);
  });

  it('gives durations in the largest whole unit', () => {
    assert.equal(humanDuration(45), '45 seconds');
    assert.equal(humanDuration(1), '1 second');
    assert.equal(humanDuration(150), '2 minutes');
    assert.equal(humanDuration(3 * 3600), '3 hours');
    assert.equal(humanDuration(-30 * DAY), '30 days');
  });
});

describe('expiry of the CRL', () => {
  const thisUpdate = new Date('2030-01-01T00:00:00Z');
  const nextUpdate = new Date('2030-01-02T00:00:00Z');
  const crl = async () => ({ crlNumber: 3n, thisUpdate, nextUpdate });

  it('is listed only once it passed halfway without being rebuilt, whatever the window', async () => {
    const fresh = await listExpiring(
      { crl },
      { now: new Date('2030-01-01T11:00:00Z'), withinSeconds: 30 * 86_400 },
    );
    assert.deepEqual(fresh, []);
    const stale = await listExpiring({ crl }, { now: new Date('2030-01-01T13:00:00Z'), withinSeconds: 60 });
    assert.deepEqual(
      stale.map((i) => [i.kind, i.id, i.expiresAt.toISOString(), i.secondsLeft]),
      [['crl', 'crl-3', nextUpdate.toISOString(), 11 * 3600]],
    );
  });
});
