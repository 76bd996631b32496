/**
 * `npm run bench`: certmaster's end-to-end issuance rate (HTTPS, CSR checks, signing, durable SQLite commit)
 * at concurrency 1 and 32, against the raw one-core signing rate of node:crypto and against `cfssl serve`,
 * in one run, with the ratios the issue sets as targets.
 *
 *   npm run bench -- [--seconds 5] [--warmup-seconds 1] [--profile DIR] [--skip-cfssl] [--skip-auth] [--skip-ocsp]
 *                    [--skip-acme] [--acme-runs 5] [--skip-audit-flood] [--audit-flood-requests 20000]
 *
 * After the issuance figures it runs the front-door and audit suite (bench/auth-suite.ts), then OCSP
 * responses per second, cached and uncached, against raw signing of one response (bench/ocsp.ts), then
 * time per certificate for lego against certmaster and against pebble (bench/acme-lego.ts), then the bytes
 * each refused request adds to the data directory, per flood kind, summaries on and off (bench/audit-flood.ts).
 *
 * --profile DIR runs the certmaster server under `node --cpu-prof` and prints where its time went; the
 * figures of such a run include the profiler's overhead.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type AcmeLegoResult, formatAcmeLego, runAcmeLegoBench } from './acme-lego.js';
import { FLOOD_KINDS, type FloodResult, formatAuditFlood, runAuditFlood } from './audit-flood.js';
import { processCpu } from './auth-processes.js';
import { formatAuthSuite } from './auth-report.js';
import { type AuthSuiteResult, runAuthSuite } from './auth-suite.js';
import { startCertmaster } from './certmaster-server.js';
import { findOnPath, startCfssl } from './cfssl-server.js';
import { type Measured, percent, type Results, report, table } from './issuance-report.js';
import type { LoadResult, Target } from './load.js';
import { cpuSnapshot, otherShare } from './machine.js';
import { formatMemory, type MemoryReport, MemoryWatch } from './memory.js';
import { formatOcspBench, runOcspBench } from './ocsp.js';
import { ProcessGroup, type Started, stop } from './processes.js';
import { formatSummary, summarizeProfiles } from './profile-summary.js';
import { measureRawSigning } from './raw-sign.js';
import { DISTURBED, formatTargets } from './targets.js';

interface Options {
  seconds: number;
  warmupSeconds: number;
  profileDir: string | null;
  skipCfssl: boolean;
  skipAuth: boolean;
  skipOcsp: boolean;
  skipAcme: boolean;
  acmeRuns: number;
  skipAuditFlood: boolean;
  auditFloodRequests: number;
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOAD_SCRIPT = join(REPO, 'bench', 'load.ts');
const RAW_SIGN_SECONDS = 2;
/** Generous: covers making the CSRs, the warm-up and the timed phase of one load run. */
const LOAD_SLACK_MS = 60_000;
const STOP_GRACE_MS = 15_000;

function acmeRuns(value: string | undefined): number {
  const runs = Number(value ?? 5);
  if (!(Number.isInteger(runs) && runs >= 1 && runs <= 100))
    throw new Error('--acme-runs must be from 1 to 100');
  return runs;
}

function auditFloodRequests(value: string | undefined): number {
  const n = Number(value ?? 20_000);
  if (!(Number.isInteger(n) && n >= 100 && n <= 1_000_000))
    throw new Error('--audit-flood-requests must be from 100 to 1000000');
  return n;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string' },
      'warmup-seconds': { type: 'string' },
      profile: { type: 'string' },
      'skip-cfssl': { type: 'boolean' },
      'skip-auth': { type: 'boolean' },
      'skip-ocsp': { type: 'boolean' },
      'skip-acme': { type: 'boolean' },
      'acme-runs': { type: 'string' },
      'skip-audit-flood': { type: 'boolean' },
      'audit-flood-requests': { type: 'string' },
    },
    strict: true,
  });
  const seconds = Number(values.seconds ?? 5);
  const warmupSeconds = Number(values['warmup-seconds'] ?? 1);
  if (!(seconds >= 1 && seconds <= 30)) throw new Error('--seconds must be from 1 to 30');
  if (!(warmupSeconds >= 0.2 && warmupSeconds <= 10))
    throw new Error('--warmup-seconds must be from 0.2 to 10');
  return {
    seconds,
    warmupSeconds,
    // A fresh directory inside the one given, so that only this run's profiles are summed.
    profileDir: values.profile ? freshDirectory(resolve(values.profile)) : null,
    skipCfssl: values['skip-cfssl'] ?? false,
    skipAuth: values['skip-auth'] ?? false,
    skipOcsp: values['skip-ocsp'] ?? false,
    skipAcme: values['skip-acme'] ?? false,
    acmeRuns: acmeRuns(values['acme-runs']),
    skipAuditFlood: values['skip-audit-flood'] ?? false,
    auditFloodRequests: auditFloodRequests(values['audit-flood-requests']),
  };
}

function freshDirectory(parent: string): string {
  mkdirSync(parent, { recursive: true });
  return mkdtempSync(join(parent, 'certmaster-serve-'));
}

function isLoadResult(value: unknown): value is LoadResult {
  if (typeof value !== 'object' || value === null) return false;
  const r = value as Record<string, unknown>;
  return typeof r.perSecond === 'number' && typeof r.issued === 'number' && typeof r.verified === 'number';
}

class Bench {
  readonly #processes = new ProcessGroup();
  readonly #tempDirs: string[] = [];
  /** Peak RSS of the issuance servers (certmaster, certmaster with crypto on the loop, cfssl) per phase. */
  readonly memory = new MemoryWatch();

  constructor(readonly options: Options) {}

  tempDir(name: string): string {
    const dir = mkdtempSync(join(tmpdir(), `certmaster-bench-${name}-`));
    this.#tempDirs.push(dir);
    return dir;
  }

  async load(target: Target, server: Started, url: string, caFile: string, concurrency: number) {
    const { seconds, warmupSeconds } = this.options;
    const args = [
      ...['--import', 'tsx', LOAD_SCRIPT, '--target', target, '--url', url, '--ca-file', caFile],
      ...['--concurrency', String(concurrency), '--seconds', String(seconds)],
      ...['--warmup-seconds', String(warmupSeconds)],
    ];
    const timeoutMs = (seconds + warmupSeconds) * 1000 + LOAD_SLACK_MS;
    this.memory.phase(`issuance c${concurrency}`);
    const pids = server.child.pid === undefined ? [] : [server.child.pid];
    const before = cpuSnapshot(pids);
    const serverBefore = server.child.pid === undefined ? null : processCpu(server.child.pid);
    const stdout = await this.#processes.run(process.execPath, args, { cwd: REPO, timeoutMs });
    const othersCpu = otherShare(before, cpuSnapshot(pids));
    const serverAfter = server.child.pid === undefined ? null : processCpu(server.child.pid);
    const line = stdout.trim().split('\n').pop() ?? '';
    const parsed: unknown = JSON.parse(line);
    if (!isLoadResult(parsed)) throw new Error(`the load generator printed no result: ${line.slice(0, 200)}`);
    // The counters include the warm-up, so they are divided by every certificate the phase issued.
    const certificates = parsed.issued + parsed.warmup.issued;
    const perCert = (ms: number | undefined, since: number | undefined) =>
      ms === undefined || since === undefined || certificates === 0
        ? null
        : Math.round(((ms - since) * 1000) / certificates);
    const measured: Measured<LoadResult> = {
      ...parsed,
      othersCpu,
      serverUsPerCert: perCert(serverAfter?.totalMs, serverBefore?.totalMs),
      loopUsPerCert: perCert(serverAfter?.mainMs, serverBefore?.mainMs),
    };
    report(`${target} c${concurrency}`, measured);
    return measured;
  }

  async certmaster(): Promise<Results['certmaster']> {
    if (!existsSync(join(REPO, 'dist', 'cli', 'main.js'))) {
      throw new Error('dist/ is missing: build the server first with `npx tsc -p tsconfig.build.json`');
    }
    const { profileDir } = this.options;
    const server = await startCertmaster(this.#processes, {
      repo: REPO,
      dataDir: join(this.tempDir('certmaster'), 'data'),
      profileDir,
    });
    this.memory.track('certmaster', server.started.child.pid, true);
    const c1 = await this.load('certmaster', server.started, server.url, server.caFile, 1);
    const c16 = await this.load('certmaster', server.started, server.url, server.caFile, 16);
    const c32 = await this.load('certmaster', server.started, server.url, server.caFile, 32);
    this.memory.untrack('certmaster');
    await stopServer(server.started, 'certmaster');
    const inline = await startCertmaster(this.#processes, {
      repo: REPO,
      dataDir: join(this.tempDir('certmaster-inline'), 'data'),
      profileDir: null,
      // The design before issue 11, in the same run: crypto and writes on the event loop.
      settings: { 'server.crypto_threads': '0', 'store.writer_thread': 'false' },
    });
    this.memory.track('certmaster all on the event loop', inline.started.child.pid, true);
    console.log(
      'the same with server.crypto_threads 0 and store.writer_thread false (everything on the event loop):',
    );
    const c1Inline = await this.load('certmaster', inline.started, inline.url, inline.caFile, 1);
    const c32Inline = await this.load('certmaster', inline.started, inline.url, inline.caFile, 32);
    this.memory.untrack('certmaster all on the event loop');
    await stopServer(inline.started, 'certmaster');
    return { c1, c16, c32, c1Inline, c32Inline };
  }

  async cfssl(): Promise<Results['cfssl']> {
    const cfssl = findOnPath('cfssl');
    const openssl = findOnPath('openssl');
    if (this.options.skipCfssl || !cfssl || !openssl) {
      const why = this.options.skipCfssl
        ? '--skip-cfssl'
        : !cfssl
          ? 'cfssl is not on PATH'
          : 'openssl is not on PATH';
      console.log(`cfssl: skipped (${why}); to compare, install it: apt-get install golang-cfssl`);
      return null;
    }
    const server = await startCfssl(this.#processes, { cfssl, openssl, dir: this.tempDir('cfssl') });
    this.memory.track('cfssl', server.started.child.pid, false);
    const c16 = await this.load('cfssl', server.started, server.url, server.caFile, 16);
    const c32 = await this.load('cfssl', server.started, server.url, server.caFile, 32);
    this.memory.untrack('cfssl');
    await stopServer(server.started, 'cfssl');
    return { c16, c32 };
  }

  async cleanUp(): Promise<void> {
    await this.#processes.stopAll(STOP_GRACE_MS);
    for (const dir of this.#tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

async function stopServer(started: Started, name: string): Promise<void> {
  await stop(started.child, STOP_GRACE_MS);
  const code = await started.exited;
  // certmaster drains and exits 0 on SIGTERM; cfssl just dies of it.
  if (code !== 0 && code !== 'SIGTERM') {
    console.log(`warning: ${name} ended with ${code}:\n${started.output().slice(-1000)}`);
  }
}

/** The share of the CPUs other processes took over one second (Linux), or else the load average per CPU. */
async function othersNow(): Promise<number> {
  const before = cpuSnapshot([]);
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return otherShare(before, cpuSnapshot([])) ?? (loadavg()[0] ?? 0) / availableParallelism();
}

async function runAcmeLego(runs: number): Promise<AcmeLegoResult | null> {
  const dir = mkdtempSync(join(tmpdir(), 'certmaster-bench-acme-'));
  const processes = new ProcessGroup();
  try {
    return await runAcmeLegoBench(processes, { repo: REPO, tempDir: dir, runs });
  } finally {
    await processes.stopAll(STOP_GRACE_MS);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runAuditFloods(requests: number): Promise<FloodResult[]> {
  const results: FloodResult[] = [];
  const processes = new ProcessGroup();
  const dir = mkdtempSync(join(tmpdir(), 'certmaster-bench-flood-'));
  try {
    for (const kind of FLOOD_KINDS) {
      for (const summarize of [true, false]) {
        const dataDir = join(dir, `${kind}-${summarize ? 'on' : 'off'}`);
        results.push(await runAuditFlood(processes, { repo: REPO, dataDir, kind, summarize, requests }));
      }
    }
    return results;
  } finally {
    await processes.stopAll(STOP_GRACE_MS);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const bench = new Bench(options);
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.log(`\n${signal}: stopping every process the benchmark started`);
    void bench.cleanUp().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `certmaster issuance benchmark, ${new Date().toISOString()}: ${availableParallelism()} CPUs (${cpu}), Node ${process.version}, ${process.platform} ${process.arch}`,
  );
  console.log(`timed phases of ${options.seconds} s after ${options.warmupSeconds} s of warm-up`);
  const busy = await othersNow();
  // Every figure here is CPU-bound: another busy process on a 2-core machine halves them.
  if (busy > DISTURBED) {
    console.log(
      `warning: other processes took ${percent(busy)} of the CPUs before the run; they lower every figure`,
    );
  }
  console.log('');
  try {
    const before = cpuSnapshot([]);
    const signing = measureRawSigning(RAW_SIGN_SECONDS);
    const raw = { ...signing, othersCpu: otherShare(before, cpuSnapshot([])) };
    console.log(
      `raw node:crypto sign (ECDSA P-256, SHA-256, 400 octets, 1 core): ${raw.perSecond} signatures/s (other processes took ${percent(raw.othersCpu)} of the CPUs)`,
    );
    const certmaster = await bench.certmaster();
    const cfssl = await bench.cfssl();
    const results: Results = { raw, certmaster, cfssl };
    const memory: MemoryReport[] = [bench.memory.report()];
    console.log(`\n${table(results)}\n\n${formatMemory(memory[0]!)}`);
    let auth: AuthSuiteResult | null = null;
    if (!options.skipAuth) {
      console.log('\nFront door and audit (bench/auth-suite.ts):');
      auth = await runAuthSuite({
        seconds: Math.min(options.seconds, 3),
        warmupSeconds: options.warmupSeconds,
      });
      memory.push(auth.memory);
      console.log(formatAuthSuite(auth));
    }
    if (!options.skipOcsp) {
      console.log('\nOCSP responses per second, in process over SQLite (bench/ocsp.ts):');
      console.log(formatOcspBench(await runOcspBench(Math.min(options.seconds, 3))));
    }
    if (!options.skipAcme) {
      console.log('\nACME: lego against certmaster and against pebble (bench/acme-lego.ts):');
      console.log(formatAcmeLego(await runAcmeLego(options.acmeRuns)));
    }
    if (!options.skipAuditFlood) {
      console.log(
        `\nAudit log growth per refused request, ${options.auditFloodRequests} per flood kind (bench/audit-flood.ts):`,
      );
      console.log(formatAuditFlood(await runAuditFloods(options.auditFloodRequests)));
    }
    if (options.profileDir) {
      console.log(
        `\nThe figures above were measured under the CPU profiler. Profile: ${options.profileDir}\n`,
      );
      const summary = summarizeProfiles(options.profileDir, 15);
      const { c1, c32 } = certmaster;
      const served = c1.issued + c1.warmup.issued + c32.issued + c32.warmup.issued;
      console.log(formatSummary(summary));
      const servingMs = summary.busyMs - summary.startUpMs;
      console.log(
        `\nServer main thread: ${(servingMs / served).toFixed(2)} ms busy per certificate (${served} certificates, warm-ups included, start-up excluded)`,
      );
    }
    console.log(`\n${formatTargets(results, auth, '--skip-auth', memory)}`);
  } finally {
    await bench.cleanUp();
  }
}

try {
  await main();
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
}
