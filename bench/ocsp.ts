/**
 * OCSP responses per second, in process over a real data directory and SQLite store: the responder with
 * its per-CertID cache of signed responses, the same responder with the cache off, and the baseline of
 * signing one response alone (the responder's key, no parsing, no store read), measured in the same run.
 *
 *   node --import tsx bench/ocsp.ts [--seconds 3]     (also run by `npm run bench` unless --skip-ocsp)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parseOcspRequest } from '../src/ca/ocsp.js';
import { initDataDir } from '../src/instance/init.js';
import { openInstance } from '../src/instance/open.js';
import { createRevocationServices } from '../src/instance/revocation.js';
import { systemClock } from '../src/types.js';

export interface OcspBenchResult {
  cachedPerSecond: number;
  uncachedPerSecond: number;
  rawSignPerSecond: number;
}

async function rate(seconds: number, body: () => Promise<unknown> | unknown): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  const start = performance.now();
  while (performance.now() < end) {
    for (let i = 0; i < 50; i++) await body();
    done += 50;
  }
  return Math.round(done / ((performance.now() - start) / 1000));
}

export async function runOcspBench(seconds: number): Promise<OcspBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'certmaster-ocsp-bench-'));
  try {
    const dataDir = join(dir, 'data');
    await initDataDir({
      dataDir,
      keyType: 'ec-p256',
      caSubject: 'CN=ocsp bench CA',
      caValidityDays: 365,
      serverValidityDays: 30,
      serverNames: [],
      clock: systemClock,
    });
    const instance = await openInstance(dataDir);
    try {
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, instance.ca.certificatePem);
      const serial = '7a11b2c3d4e5f60718293a4b5c6d7e8f';
      const now = new Date();
      await instance.store.submitRequest(
        {
          id: 'bench-request',
          commonName: 'ocsp.bench.example',
          dnsNames: ['ocsp.bench.example'],
          ipAddresses: [],
          csrPem: 'bench',
          csrSha256: 'bench',
          keyDescription: 'EC P-256',
          state: 'issued',
          requester: 'bench',
          clientAddress: '127.0.0.1',
          createdAt: now,
          updatedAt: now,
          decidedBy: 'bench',
          rejectionReason: null,
          serial,
        },
        {
          serial,
          requestId: 'bench-request',
          commonName: 'ocsp.bench.example',
          dnsNames: ['ocsp.bench.example'],
          ipAddresses: [],
          notBefore: now,
          notAfter: new Date(now.getTime() + 86_400_000),
          certificatePem: 'bench',
          createdAt: now,
          revokedAt: null,
          revocationReason: null,
        },
        { allowDuplicateCertificates: true, now },
      );
      const reqPath = join(dir, 'req.der');
      execFileSync('openssl', [
        'ocsp',
        '-issuer',
        caFile,
        '-serial',
        `0x${serial}`,
        '-no_nonce',
        '-reqout',
        reqPath,
      ]);
      const request = readFileSync(reqPath);
      const parts = { layout: instance.layout, ca: instance.ca, store: instance.store, clock: systemClock };
      const cached = createRevocationServices({ ...parts, config: () => instance.config() });
      const uncached = createRevocationServices({
        ...parts,
        config: () => instance.config(),
        cacheOcsp: false,
      });
      const signer = cached.ocspSigner.current();
      const parsed = parseOcspRequest(request);
      const sign = () =>
        signer.sign({
          certId: parsed.certId,
          status: { kind: 'good' },
          thisUpdate: new Date(),
          nextUpdate: new Date(Date.now() + 3_600_000),
          nonce: null,
        });
      // Warm-up: JIT, the prepared statement, the first signature.
      await rate(0.5, () => cached.ocsp.respond(request));
      await rate(0.5, () => uncached.ocsp.respond(request));
      return {
        rawSignPerSecond: await rate(seconds, sign),
        uncachedPerSecond: await rate(seconds, () => uncached.ocsp.respond(request)),
        cachedPerSecond: await rate(seconds, () => cached.ocsp.respond(request)),
      };
    } finally {
      await instance.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function formatOcspBench(r: OcspBenchResult): string {
  const ratio = (x: number) => (x / r.rawSignPerSecond).toFixed(2);
  return [
    `  raw signing of one response (baseline): ${r.rawSignPerSecond}/s`,
    `  responder, uncached (parse + store read + sign): ${r.uncachedPerSecond}/s (${ratio(r.uncachedPerSecond)}x raw signing)`,
    `  responder, cached (store read, no parse, no signature): ${r.cachedPerSecond}/s (${ratio(r.cachedPerSecond)}x raw signing)`,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { seconds: { type: 'string' } } });
  const result = await runOcspBench(Number(values.seconds ?? 3));
  console.log('OCSP responses per second (bench/ocsp.ts):');
  console.log(formatOcspBench(result));
}
