/**
 * POST /v1/renewals over real mutual TLS with the real curl: the renewal policy (ra.renew_window,
 * ra.renew_after_expiry, ra.renew_same_key, ra.revoke_on_renew) decides at once, every refusal has its
 * reason, hint and explain advice, lineage is recorded, and /metrics counts renewals and refusals.
 * Time is moved with a clock shared by the RA and the front door, never by sleeping.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { setSetting } from '../../src/config/file.js';
import {
  explainHost,
  explainRequest,
  renderHostDiagnosis,
  renderRequestStory,
} from '../../src/ops/explain/index.js';
import { curl, header } from '../e2e/curl.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { openssl, opensslCsr } from '../helpers/openssl.js';

const DAY = 86_400;
const tmp = tempDir('renewals');
const clock = new MovableClock(Date.now());
let server: TestServer;
let caFile: string;

interface Held {
  name: string;
  certFile: string;
  keyFile: string;
  serial: string;
}

let counter = 0;

/** Enrolls NAME (autosigned) with SANs and writes its certificate and key to files. */
async function enroll(name: string, sans: string[] = [name]): Promise<Held> {
  counter++;
  const { csrPem, keyPath } = opensslCsr(tmp.path, `${name}-${counter}`, `/CN=${name}`, {
    sans: sans.map((s) => `DNS:${s}`),
  });
  const res = await curl(caFile, [
    '-X',
    'POST',
    '-H',
    'content-type: application/json',
    '--data-binary',
    JSON.stringify({ csr: csrPem }),
    `${server.url}/v1/requests`,
  ]);
  assert.equal(res.final.status, 201, res.final.body);
  const certFile = join(tmp.path, `${name}-${counter}.pem`);
  writeFileSync(certFile, String(res.json.certificate));
  return { name, certFile, keyFile: keyPath, serial: String(res.json.serial) };
}

/** POST /v1/renewals presenting HELD, with a CSR for SUBJECT/SANS under a new key (or HELD's key). */
async function renew(
  held: Held,
  options: { sans?: string[]; cn?: string; sameKey?: boolean } = {},
): Promise<Awaited<ReturnType<typeof curl>>> {
  counter++;
  const cn = options.cn ?? held.name;
  const sans = (options.sans ?? [held.name]).map((s) => `DNS:${s}`).join(',');
  let csrPem: string;
  if (options.sameKey) {
    const csrPath = join(tmp.path, `same-${counter}.csr`);
    openssl([
      'req',
      '-new',
      '-key',
      held.keyFile,
      '-subj',
      `/CN=${cn}`,
      '-addext',
      `subjectAltName=${sans}`,
      '-out',
      csrPath,
    ]);
    csrPem = readFileSync(csrPath, 'utf8');
  } else {
    csrPem = opensslCsr(tmp.path, `renew-${counter}`, `/CN=${cn}`, { sans: sans.split(',') }).csrPem;
  }
  return curl(caFile, [
    '--cert',
    held.certFile,
    '--key',
    held.keyFile,
    '-X',
    'POST',
    '-H',
    'content-type: application/json',
    '--data-binary',
    JSON.stringify({ csr: csrPem }),
    `${server.url}/v1/renewals`,
  ]);
}

function set(key: string, value: string): void {
  setSetting(join(server.dataDir, 'certmaster.toml'), key, value);
  server.instance.reloadConfig();
}

async function storyOf(requestId: string): Promise<string> {
  const story = await explainRequest(server.instance.store, requestId, {
    dataDir: server.dataDir,
    server: null,
  });
  assert.ok(story, `a story for ${requestId}`);
  return renderRequestStory(story);
}

before(async () => {
  server = await startTestServer(
    { 'ra.autosign': '*.renew.example', 'ra.renew_window': '0.5' },
    { clock, clockEverywhere: true },
  );
  caFile = join(tmp.path, 'ca.pem');
  writeFileSync(caFile, server.caPem);
});

after(async () => {
  await server.close();
  tmp.remove();
});

beforeEach(() => {
  // Each test starts now: moved too far, issued certificates would end at the CA's own notAfter.
  clock.set(new Date());
  set('ra.renew_window', '0.5');
  set('ra.renew_after_expiry', 'none');
  set('ra.renew_same_key', 'false');
  set('ra.revoke_on_renew', 'false');
});

describe('POST /v1/renewals', () => {
  test('before the window: 403 renewal_not_yet_open with the time it opens and Retry-After', async () => {
    const host = await enroll('early.renew.example');
    const res = await renew(host);
    assert.equal(res.final.status, 403, res.final.body);
    assert.equal(res.json.reason, 'renewal_not_yet_open');
    assert.match(String(res.json.detail), /opens at \d{4}-\d\d-\d\dT[\d:.]+Z, after 50% of its lifetime/);
    const retryAfter = Number(header(res.final, 'retry-after'));
    assert.ok(retryAfter > 44 * DAY && retryAfter <= 45 * DAY, `Retry-After ${retryAfter}`);
    const text = await storyOf(String(res.json.request_id));
    assert.ok(text.includes('certmaster config get ra.renew_window'), text);
  });

  test('in the window: 201 with a new certificate for the same names, lineage recorded, old one still valid', async () => {
    const host = await enroll('web.renew.example');
    clock.advance(46 * DAY);
    const res = await renew(host);
    assert.equal(res.final.status, 201, res.final.body);
    assert.equal(res.json.renewed_from, host.serial);
    assert.notEqual(res.json.serial, host.serial);
    assert.deepEqual(res.json.dns_names, ['web.renew.example']);
    const stored = await server.instance.store.getCertificate(String(res.json.serial));
    assert.equal(stored?.renewedFrom, host.serial);
    const old = await server.instance.store.getCertificate(host.serial);
    assert.equal(old?.revokedAt, null, 'ra.revoke_on_renew is false: the old certificate stays valid');
    const audit = await server.instance.store.queryAudit({
      requestId: String(header(res.final, 'x-request-id')),
    });
    assert.ok(
      audit.some((r) => r.kind === 'certificate.renew' && r.phase === 'response' && r.outcome === 'success'),
    );
  });

  test('a name added: 403 renewal_names_changed; a name dropped is fine', async () => {
    const host = await enroll('two.renew.example', ['two.renew.example', 'alias.renew.example']);
    clock.advance(46 * DAY);
    const added = await renew(host, {
      sans: ['two.renew.example', 'alias.renew.example', 'more.renew.example'],
    });
    assert.equal(added.final.status, 403, added.final.body);
    assert.equal(added.json.reason, 'renewal_names_changed');
    assert.match(String(added.json.detail), /adding more\.renew\.example/);
    const otherCn = await renew(host, { cn: 'alias.renew.example', sans: ['alias.renew.example'] });
    assert.equal(otherCn.json.reason, 'renewal_names_changed');
    const dropped = await renew(host, { sans: ['two.renew.example'] });
    assert.equal(dropped.final.status, 201, dropped.final.body);
    assert.deepEqual(dropped.json.dns_names, ['two.renew.example']);
  });

  test('the same key: 403 renewal_same_key unless ra.renew_same_key is true', async () => {
    const host = await enroll('samekey.renew.example');
    clock.advance(46 * DAY);
    const refused = await renew(host, { sameKey: true });
    assert.equal(refused.final.status, 403, refused.final.body);
    assert.equal(refused.json.reason, 'renewal_same_key');
    const text = await storyOf(String(refused.json.request_id));
    assert.ok(text.includes('ra.renew_same_key'), text);
    set('ra.renew_same_key', 'true');
    const allowed = await renew(host, { sameKey: true });
    assert.equal(allowed.final.status, 201, allowed.final.body);
  });

  test('after expiry: refused with a clear reason; with a grace period, this route alone accepts it', async () => {
    const host = await enroll('late.renew.example');
    clock.advance(91 * DAY);
    const refused = await renew(host);
    assert.equal(refused.final.status, 403, refused.final.body);
    assert.equal(refused.json.reason, 'renewal_after_expiry_refused');
    assert.match(String(refused.json.detail), /expired at .*ra\.renew_after_expiry = none/);
    assert.match(String(refused.json.hint), /enroll the host again/);
    const text = await storyOf(String(refused.json.request_id));
    assert.ok(text.includes('certmaster token create --enroll late.renew.example'), text);
    const noGrace = await curl(caFile, [
      '--cert',
      host.certFile,
      '--key',
      host.keyFile,
      `${server.url}/v1/whoami`,
    ]);
    assert.match(
      String(noGrace.json.hint),
      /renewal after expiry is not allowed here \(ra\.renew_after_expiry = none\)/,
    );

    set('ra.renew_after_expiry', '7d');
    // Elsewhere the expired certificate authenticates nothing.
    const whoami = await curl(caFile, [
      '--cert',
      host.certFile,
      '--key',
      host.keyFile,
      `${server.url}/v1/whoami`,
    ]);
    assert.equal(whoami.final.status, 401);
    assert.equal(whoami.json.reason, 'client_certificate_invalid');
    assert.match(String(whoami.json.hint), /still renews it until \d{4}-.*certmaster renew --force/);
    const allowed = await renew(host);
    assert.equal(allowed.final.status, 201, allowed.final.body);
    assert.equal(allowed.json.renewed_from, host.serial);

    const later = await enroll('later.renew.example');
    clock.advance(98 * DAY);
    const past = await renew(later);
    assert.equal(past.json.reason, 'renewal_after_expiry_refused');
    assert.match(String(past.json.detail), /renewal after expiry was allowed until/);
  });

  test('ra.revoke_on_renew: the old certificate is revoked as superseded, and mutual TLS refuses it at once', async () => {
    set('ra.revoke_on_renew', 'true');
    const host = await enroll('rotate.renew.example');
    clock.advance(46 * DAY);
    const res = await renew(host);
    assert.equal(res.final.status, 201, res.final.body);
    const old = await server.instance.store.getCertificate(host.serial);
    assert.equal(old?.revocationReason, 'superseded');
    const whoami = await curl(caFile, [
      '--cert',
      host.certFile,
      '--key',
      host.keyFile,
      `${server.url}/v1/whoami`,
    ]);
    assert.equal(whoami.final.status, 401);
    assert.match(String(whoami.json.detail), /revoked at .* for reason superseded/);
  });

  test('explain --host tells the renewal history and why a later renewal was refused', async () => {
    const host = await enroll('story.renew.example');
    clock.advance(46 * DAY);
    const res = await renew(host);
    assert.equal(res.final.status, 201, res.final.body);
    clock.advance(DAY);
    const refused = await renew(host, { sameKey: true });
    assert.equal(refused.json.reason, 'renewal_same_key');
    const diagnosis = await explainHost(
      server.instance.store,
      'story.renew.example',
      { dataDir: server.dataDir, server: null },
      clock,
    );
    const text = renderHostDiagnosis(diagnosis);
    assert.ok(text.includes('Renewal history'), text);
    assert.ok(text.includes(`${String(res.json.serial)} renewed ${host.serial}`), text);
    assert.ok(text.includes('renewal_same_key'), text);
    assert.ok(text.includes('ra.renew_same_key'), text);
  });

  test('without a client certificate: 401 credentials_missing, before the RA', async () => {
    const { csrPem } = opensslCsr(tmp.path, 'anon', '/CN=anon.renew.example');
    const res = await curl(caFile, [
      '-X',
      'POST',
      '-H',
      'content-type: application/json',
      '--data-binary',
      JSON.stringify({ csr: csrPem }),
      `${server.url}/v1/renewals`,
    ]);
    assert.equal(res.final.status, 401, res.final.body);
    assert.equal(res.json.reason, 'credentials_missing');
  });

  test('/metrics counts renewals and renewal refusals by reason', async () => {
    const res = await curl(caFile, [`${server.url}/metrics`]);
    assert.equal(res.final.status, 200, res.final.body);
    const renewed = /^certmaster_certificates_renewed_total (\d+)$/m.exec(res.final.body);
    assert.ok(renewed && Number(renewed[1]) >= 4, res.final.body.slice(0, 200));
    for (const reason of [
      'renewal_not_yet_open',
      'renewal_names_changed',
      'renewal_same_key',
      'renewal_after_expiry_refused',
    ]) {
      assert.match(
        res.final.body,
        new RegExp(`^certmaster_renewal_refusals_total\\{reason="${reason}"\\} [1-9]`, 'm'),
      );
    }
  });
});
