/**
 * The OCSP responder over a real data directory and store: the delegated signer the CA issues and
 * rotates, responses reused until the status changes, nonces echoed, strangers' certificates unknown.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initDataDir } from '../../src/instance/init.js';
import { type Instance, openInstance } from '../../src/instance/open.js';
import { createRevocationServices, type RevocationServices } from '../../src/instance/revocation.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';
import { openssl } from '../helpers/openssl.js';
import { autosigned } from '../store/records.js';

describe('OCSP responder', () => {
  const tmp = tempDir('ocsp');
  const clock = new MovableClock(Date.now());
  let instance: Instance;
  let services: RevocationServices;
  const caFile = join(tmp.path, 'ca.pem');

  /** An OCSP request for `serial` made by openssl, as a relying party would send it. */
  function requestFor(serial: string, nonce: boolean): Buffer {
    const out = join(tmp.path, `req-${serial}-${nonce}.der`);
    const r = openssl([
      'ocsp',
      '-issuer',
      caFile,
      '-serial',
      `0x${serial}`,
      ...(nonce ? [] : ['-no_nonce']),
      '-reqout',
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    return readFileSync(out);
  }

  function show(der: Buffer): string {
    const path = join(tmp.path, 'resp.der');
    writeFileSync(path, der);
    return openssl(['ocsp', '-respin', path, '-resp_text', '-noverify']).stdout;
  }

  before(async () => {
    const dataDir = join(tmp.path, 'data');
    await initDataDir({
      dataDir,
      keyType: 'ec-p256',
      caSubject: 'CN=ocsp test CA',
      caValidityDays: 365,
      serverValidityDays: 30,
      serverNames: [],
      clock,
    });
    instance = await openInstance(dataDir, { clock });
    writeFileSync(caFile, instance.ca.certificatePem);
    services = createRevocationServices({
      layout: instance.layout,
      ca: instance.ca,
      store: instance.store,
      clock,
      config: () => instance.config(),
    });
  });
  after(async () => {
    await instance.close();
    tmp.remove();
  });

  it('the CA issues a delegated signer with id-kp-OCSPSigning and ocsp-nocheck, and rotates it before it expires', () => {
    const first = services.ocspSigner.current();
    const text = openssl(['x509', '-in', instance.layout.ocspCertificate, '-noout', '-text']).stdout;
    assert.match(text, /OCSP Signing/);
    assert.match(text, /OCSP No Check/);
    assert.equal(services.ocspSigner.current(), first);
    clock.advance(19 * 86_400);
    assert.equal(services.ocspSigner.current(), first, 'more than ten days left: kept');
    clock.advance(2 * 86_400);
    const second = services.ocspSigner.current();
    assert.notEqual(second, first);
    assert.ok(second.notAfter.getTime() > first.notAfter.getTime());
    const at = String(Math.floor(clock.now().getTime() / 1000));
    const verify = openssl(['verify', '-attime', at, '-CAfile', caFile, instance.layout.ocspCertificate]);
    assert.equal(verify.code, 0, verify.stderr);
  });

  it('reuses a signed response until the status changes, and echoes a nonce', async () => {
    const { request, certificate } = autosigned();
    await instance.store.submitRequest(request, certificate, {
      allowDuplicateCertificates: true,
      now: clock.now(),
    });
    const plain = requestFor(certificate.serial, false);
    const first = await services.ocsp.respond(plain);
    assert.match(show(first.der), /Cert Status: good/);
    clock.advance(60);
    assert.ok((await services.ocsp.respond(plain)).der.equals(first.der), 'the cached response');

    await instance.store.revokeCertificate(certificate.serial, 'affiliationChanged', clock.now());
    const revoked = show((await services.ocsp.respond(plain)).der);
    assert.match(revoked, /Cert Status: revoked/);
    assert.match(revoked, /Revocation Reason: affiliationChanged/);

    const withNonce = show((await services.ocsp.respond(requestFor(certificate.serial, true))).der);
    assert.match(withNonce, /OCSP Nonce/);
  });

  it('answers unknown for a serial it never issued', async () => {
    const answer = await services.ocsp.respond(requestFor('0123456789abcdef', false));
    assert.match(show(answer.der), /Cert Status: unknown/);
  });
});
