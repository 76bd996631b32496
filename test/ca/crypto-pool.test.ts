import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { Worker } from 'node:worker_threads';
import { CertificateAuthority } from '../../src/ca/authority.js';
import { CryptoPool, CryptoThreadError, InlineCrypto } from '../../src/ca/crypto-pool.js';
import { CsrError, parseCsr, parseCsrWith } from '../../src/ca/csr.js';
import { bitString, sequence } from '../../src/ca/der.js';
import { createRootCa } from '../../src/ca/root.js';
import { systemClock } from '../../src/types.js';
import { opensslCsr } from '../helpers/openssl.js';

const started: Worker[] = [];
const pool = new CryptoPool({ threads: 2, onThreadStart: (w) => started.push(w) });
const dir = mkdtempSync(join(tmpdir(), 'cm-crypto-pool-'));
after(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

function csrDer(name: string): Buffer {
  const { csrPem } = opensslCsr(dir, name, `/CN=${name}`, { sans: [`DNS:${name}`] });
  return Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
}

/** The same CSR with one bit of its signature flipped. */
function tampered(der: Buffer): Buffer {
  const copy = Buffer.from(der);
  copy[copy.length - 3] = copy[copy.length - 3]! ^ 0x01;
  return copy;
}

describe('crypto threads', () => {
  it('check a CSR exactly as this thread does, and refuse a forged one with the same reason', async () => {
    const der = csrDer('pool.example.com');
    const local = parseCsr(der);
    const { publicKey: _ignored, ...expected } = local;
    assert.deepEqual(await parseCsrWith(der, pool), expected);
    assert.deepEqual(await parseCsrWith(der, new InlineCrypto()), expected);
    const forged = tampered(der);
    const why = (e: unknown) => (e instanceof CsrError ? `${e.field}: ${e.message}` : String(e));
    let onThread = '';
    let here = '';
    await parseCsrWith(forged, pool).catch((e: unknown) => {
      onThread = why(e);
    });
    try {
      parseCsr(forged);
    } catch (e) {
      here = why(e);
    }
    assert.match(here, /^signature: /);
    assert.equal(onThread, here);
    assert.ok(pool.size === 2, 'the threads start with the first job');
  });

  it('sign certificates that verify under the CA key', async () => {
    const root = await createRootCa({
      keyType: 'ec-p256',
      subject: 'CN=pool test CA',
      validityDays: 30,
      clock: systemClock,
    });
    const ca = new CertificateAuthority(root.certificateDer, root.privateKey);
    ca.useCrypto(pool);
    const csr = parseCsr(csrDer('signed.example.com'));
    const leaf = await ca.signLeaf({
      commonName: 'signed.example.com',
      dnsNames: ['signed.example.com'],
      ipAddresses: [],
      spki: csr.spki,
      validityDays: 1,
      now: new Date(),
    });
    const cert = new X509Certificate(leaf.der);
    assert.equal(cert.verify(createPublicKey(root.privateKey)), true);
    assert.equal(cert.subject, 'CN=signed.example.com');
  });

  it('answer a thousand callers at once, in a few batches, each with its own answer', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = pool.signer({ key: privateKey, hash: 'sha256', dsaEncoding: true });
    const before = pool.batchesSent;
    const messages = Array.from({ length: 1000 }, (_, i) => Buffer.from(`message ${i}`));
    const signatures = await Promise.all(messages.map((m) => signer.signTbs(m)));
    signatures.forEach((signature, i) => {
      assert.equal(verify('sha256', messages[i]!, { key: publicKey, dsaEncoding: 'der' }, signature), true);
      assert.equal(
        verify('sha256', messages[(i + 1) % 1000]!, { key: publicKey, dsaEncoding: 'der' }, signature),
        false,
      );
    });
    const batches = pool.batchesSent - before;
    assert.ok(batches < 100, `1000 jobs went out in ${batches} messages`);
  });

  it('fail the jobs of a thread that stops, and go on with a new thread', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const signer = pool.signer({ key: privateKey, hash: 'sha256', dsaEncoding: true });
    const count = started.length;
    const jobs = Array.from({ length: 400 }, (_, i) => signer.signTbs(Buffer.from(`doomed ${i}`)));
    // Ends both threads while their batches are in flight.
    setImmediate(() => {
      for (const worker of started.slice(-2)) void worker.terminate();
    });
    const outcomes = await Promise.allSettled(jobs);
    const failed = outcomes.filter((o) => o.status === 'rejected');
    for (const o of failed) assert.ok(o.reason instanceof CryptoThreadError, String(o.reason));
    assert.ok(failed.length > 0, 'some jobs were in flight when the threads ended');
    // The pool replaced them, with the keys they held.
    assert.ok(started.length >= count + 2);
    const after = await signer.signTbs(Buffer.from('after the crash'));
    assert.ok(after.length > 0);
  });

  it('refuse new jobs once closed', async () => {
    const closing = new CryptoPool({ threads: 1 });
    await closing.checkPossession(parseCsrParts());
    await closing.close();
    await assert.rejects(closing.checkPossession(parseCsrParts()), CryptoThreadError);
  });
});

function parseCsrParts() {
  const der = csrDer('closed.example.com');
  const csr = parseCsr(der);
  // A job whose answer does not matter here: the key of a real CSR, and a signature that cannot verify.
  return { spki: csr.spki, hash: 'sha256', keyType: 'ec', signed: der, signature: bitString(sequence()) };
}
