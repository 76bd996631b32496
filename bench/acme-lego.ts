/**
 * Time per certificate for lego (Debian's) against certmaster and against pebble (Debian's, Let's
 * Encrypt's test server), side by side. Each lego run is one process that orders one new name over
 * http-01, proves it, finalizes and downloads the chain, reusing the account of the first (warm-up)
 * run. pebble runs with PEBBLE_VA_ALWAYS_VALID=1 (it skips validation: the server alone),
 * PEBBLE_VA_NOSLEEP=1 and PEBBLE_WFE_NONCEREJECT=0 (no deliberate badNonce); certmaster validates
 * for real against lego's http-01 listener, with a DNS server in this process naming 127.0.0.1.
 * Both serve HTTPS; pebble with a TLS certificate from a throwaway CA made here with openssl.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { startTestDns } from '../test/helpers/dns-server.js';
import { startCertmaster } from './certmaster-server.js';
import { findOnPath } from './cfssl-server.js';
import { type ProcessGroup, waitForOutput } from './processes.js';

export interface AcmeLegoResult {
  runs: number;
  certmasterMs: number;
  pebbleMs: number | null;
  note: string | null;
}

const LEGO_TIMEOUT_MS = 60_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Runs lego `runs + 1` times (the first registers the account and is not timed); mean ms per run. */
async function timeLego(
  processes: ProcessGroup,
  options: { repo: string; directory: string; caFile: string; path: string; httpPort: number; runs: number },
): Promise<number> {
  const env = { LEGO_CA_CERTIFICATES: options.caFile };
  const once = (i: number) =>
    processes.run(
      'lego',
      [
        '--server',
        options.directory,
        '--accept-tos',
        '--email',
        'bench@bench.test',
        '--path',
        options.path,
        '--domains',
        `c${i}.bench.test`,
        '--http',
        '--http.port',
        `127.0.0.1:${options.httpPort}`,
        'run',
      ],
      { cwd: options.repo, timeoutMs: LEGO_TIMEOUT_MS, env },
    );
  await once(0);
  const started = performance.now();
  for (let i = 1; i <= options.runs; i++) await once(i);
  return (performance.now() - started) / options.runs;
}

/** A CA and a 127.0.0.1/localhost server certificate for pebble's HTTPS listener. */
function pebbleTls(dir: string): { caFile: string; certFile: string; keyFile: string } {
  const caKey = join(dir, 'tls-ca.key');
  const caFile = join(dir, 'tls-ca.pem');
  const keyFile = join(dir, 'tls.key');
  const csr = join(dir, 'tls.csr');
  const certFile = join(dir, 'tls.pem');
  const ext = join(dir, 'tls.ext');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  const openssl = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl([
    'req',
    '-x509',
    ...ec,
    '-keyout',
    caKey,
    '-out',
    caFile,
    '-subj',
    '/CN=pebble bench TLS CA',
    '-days',
    '2',
  ]);
  openssl(['req', '-new', ...ec, '-keyout', keyFile, '-out', csr, '-subj', '/CN=localhost']);
  writeFileSync(ext, 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    caFile,
    '-CAkey',
    caKey,
    '-CAcreateserial',
    '-out',
    certFile,
    '-days',
    '2',
    '-extfile',
    ext,
  ]);
  return { caFile, certFile, keyFile };
}

export async function runAcmeLegoBench(
  processes: ProcessGroup,
  options: { repo: string; tempDir: string; runs: number },
): Promise<AcmeLegoResult | null> {
  if (!findOnPath('lego')) return null;
  const dns = await startTestDns();
  try {
    const httpPort = await freePort();
    const server = await startCertmaster(processes, {
      repo: options.repo,
      dataDir: join(options.tempDir, 'certmaster-acme'),
      profileDir: null,
      settings: {
        'acme.http01_port': String(httpPort),
        'acme.resolver': dns.address,
        // Every bench certificate is under bench.test.
        'acme.certificates_per_name_per_week': '0',
      },
    });
    const certmasterMs = await timeLego(processes, {
      repo: options.repo,
      directory: `${server.url}/acme/directory`,
      caFile: server.caFile,
      path: join(options.tempDir, 'lego-certmaster'),
      httpPort,
      runs: options.runs,
    });
    server.started.child.kill('SIGTERM');
    await server.started.exited;

    if (!findOnPath('pebble'))
      return { runs: options.runs, certmasterMs, pebbleMs: null, note: 'pebble not installed' };
    const tls = pebbleTls(options.tempDir);
    const port = await freePort();
    const config = join(options.tempDir, 'pebble-config.json');
    writeFileSync(
      config,
      JSON.stringify({
        pebble: {
          listenAddress: `127.0.0.1:${port}`,
          managementListenAddress: `127.0.0.1:${await freePort()}`,
          certificate: tls.certFile,
          privateKey: tls.keyFile,
          httpPort: httpPort,
          tlsPort: await freePort(),
          ocspResponderURL: '',
          externalAccountBindingRequired: false,
        },
      }),
    );
    const pebble = processes.start('pebble', ['-config', config], {
      cwd: options.tempDir,
      env: { PEBBLE_VA_ALWAYS_VALID: '1', PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0' },
    });
    await waitForOutput(pebble, /Listening on/, 30_000);
    const pebbleMs = await timeLego(processes, {
      repo: options.repo,
      directory: `https://127.0.0.1:${port}/dir`,
      caFile: tls.caFile,
      path: join(options.tempDir, 'lego-pebble'),
      httpPort,
      runs: options.runs,
    });
    pebble.child.kill('SIGTERM');
    await pebble.exited;
    return { runs: options.runs, certmasterMs, pebbleMs, note: null };
  } finally {
    await dns.close();
  }
}

export function formatAcmeLego(r: AcmeLegoResult | null): string {
  if (r === null) return 'lego is not installed (apt-get install lego pebble): skipped';
  const line = (name: string, ms: number) =>
    `${name.padEnd(48)}${ms.toFixed(0).padStart(8)} ms per certificate`;
  const lines = [line('lego -> certmaster (http-01 validated)', r.certmasterMs)];
  if (r.pebbleMs === null) lines.push(`pebble: ${r.note ?? 'not measured'}`);
  else {
    lines.push(line('lego -> pebble (PEBBLE_VA_ALWAYS_VALID=1)', r.pebbleMs));
    const ratio = r.certmasterMs / r.pebbleMs;
    lines.push(
      `${'ratio certmaster / pebble'.padEnd(48)}${ratio.toFixed(3).padStart(8)}   target <= 1   ${ratio <= 1 ? 'met' : 'NOT met'}`,
    );
  }
  lines.push(
    `(mean of ${r.runs} lego runs each, one new name per run, after one untimed run that registers)`,
  );
  return lines.join('\n');
}
