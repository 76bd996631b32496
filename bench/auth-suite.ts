/**
 * What the front door costs: authenticated and refused requests next to bare ones on the same server, the
 * token endpoint's grant rates, a legitimate client's latency while another address floods wrong
 * passwords, and what auditing every decision costs, in one run:
 *
 *   node --import tsx bench/auth-suite.ts [--seconds 3] [--warmup-seconds 1] [--profile DIR] [--json]
 *
 * --json also prints the AuthSuiteResult as one JSON line; --profile runs the servers under the CPU
 * profiler (bench/auth-profile.ts profiles one scenario alone, which says more).
 *
 * The machine is shared and noisy, so the ratios matter, not the absolute figures; beside each
 * throughput ratio stands the same ratio from the server's CPU time per answer, which holds even when
 * the load generator (on the same cores) rather than the server is what limits the rate.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  type AuthMeasurement,
  type AuthSuiteResult,
  grantRate,
  measurement,
  ratio,
  round,
  type SliceClock,
} from './auth-figures.js';
import type { AuthLoadResult, LoadPlan } from './auth-load.js';
import {
  CONCURRENCY,
  FLOOD_ADDRESS,
  FLOOD_CONCURRENCY,
  FLOOD_MAX_SECONDS,
  HASHER_CONCURRENCY,
  LEGIT_CONCURRENCY,
  LOAD_SLACK_MS,
  PAIRED,
  type PairedKey,
  type ServerKind,
  SLICE_SECONDS,
  STOP_GRACE_MS,
  TARGET_AUDITED_VS_NOOP,
  TARGET_BEARER_VS_BARE,
  TARGET_FLOOD_P99_MS,
  TARGET_FLOOD_RATE_DROP,
  TARGET_REFUSAL_VS_BARE_401,
} from './auth-plan.js';
import { AuthProcesses } from './auth-processes.js';
import { describe, formatAuthSuite } from './auth-report.js';
import type { AuthScenario } from './auth-scenarios.js';
import {
  type AuthServer,
  ensureBuilt,
  prepareAuthData,
  startAuthServer,
  startBareFastify,
} from './auth-server.js';
import { cpuSnapshot, otherShare } from './machine.js';
import { MemoryWatch } from './memory.js';
import { stop, withTimeout } from './processes.js';
import { summarizeProfiles } from './profile-summary.js';

export interface AuthSuiteOptions {
  seconds: number;
  warmupSeconds: number;
  /** Runs every server under `node --cpu-prof`, one subdirectory each; the figures then include its overhead. */
  profileDir?: string;
  /** Progress lines; default console.log. */
  log?: (line: string) => void;
}

export type { AuthMeasurement, AuthRatio, AuthSuiteResult, GrantRate } from './auth-figures.js';
export type { ServerKind } from './auth-plan.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOAD_SCRIPT = join(REPO, 'bench', 'auth-load.ts');
interface RunningLoad {
  /** Resolves when the first timed slice starts. */
  timed: Promise<void>;
  /** Closes the generator's stdin (ends an untilStdinEnds timed phase). */
  endInput(): void;
  results: Promise<Map<string, AuthMeasurement>>;
}

interface Planned {
  kind: ServerKind;
  scenario: AuthScenario;
}

const SERVER_KINDS = ['audited', 'noop', 'flood', 'fastify'] as const;

const keyOf = (kind: ServerKind, scenario: AuthScenario): string => `${kind}:${scenario}`;

class AuthSuite {
  readonly processes = new AuthProcesses();
  readonly tempDirs: string[] = [];
  readonly log: (line: string) => void;
  #plans = 0;

  constructor(readonly options: AuthSuiteOptions) {
    this.log = options.log ?? ((line) => console.log(line));
  }

  /**
   * Starts one load generator over `targets`, which take turns in short slices; the server's CPU time is
   * read around every slice and summed per target.
   */
  startLoad(
    servers: Partial<Record<ServerKind, AuthServer>>,
    credentialsFile: string,
    targets: Planned[],
    opts: { concurrency: number; seconds: number; localAddress?: string; untilStdinEnds?: boolean },
  ): RunningLoad {
    const serverOf = (kind: ServerKind): AuthServer => {
      const server = servers[kind];
      if (!server) throw new Error(`no ${kind} server`);
      return server;
    };
    const plan: LoadPlan = {
      credentialsFile,
      targets: targets.map(({ kind, scenario }) => ({
        key: keyOf(kind, scenario),
        scenario,
        url: serverOf(kind).url,
        caFile: serverOf(kind).caFile,
      })),
      concurrency: opts.concurrency,
      seconds: opts.seconds,
      warmupSeconds: this.options.warmupSeconds,
      sliceSeconds: SLICE_SECONDS,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      ...(opts.untilStdinEnds ? { untilStdinEnds: true } : {}),
    };
    const planFile = join(this.tempDir('plan'), `plan-${++this.#plans}.json`);
    writeFileSync(planFile, JSON.stringify(plan), { mode: 0o600 });
    const kindOfKey = new Map(targets.map((t) => [keyOf(t.kind, t.scenario), t.kind]));
    const clocks = new Map<string, SliceClock>(
      [...kindOfKey.keys()].map((key) => [key, { wallMs: 0, cpu: { totalMs: 0, mainMs: 0 }, open: null }]),
    );
    let loadResults: AuthLoadResult[] | null = null;
    let timedStarted: () => void = () => undefined;
    const timed = new Promise<void>((resolve) => {
      timedStarted = resolve;
    });
    const onLine = (line: string) => {
      if (!line.startsWith('{')) return;
      const message = JSON.parse(line) as { event?: string; key?: string; results?: AuthLoadResult[] };
      const kind = message.key === undefined ? undefined : kindOfKey.get(message.key);
      const clock = message.key === undefined ? undefined : clocks.get(message.key);
      if (message.event === 'slice-start' && kind && clock) {
        clock.open = { wall: performance.now(), cpu: serverOf(kind).cpu() };
        timedStarted();
      } else if (message.event === 'slice-end' && kind && clock?.open) {
        const cpu = serverOf(kind).cpu();
        const { open } = clock;
        clock.wallMs += performance.now() - open.wall;
        clock.cpu =
          clock.cpu && cpu && open.cpu
            ? {
                totalMs: clock.cpu.totalMs + cpu.totalMs - open.cpu.totalMs,
                mainMs: clock.cpu.mainMs + cpu.mainMs - open.cpu.mainMs,
              }
            : null;
        clock.open = null;
      } else if (message.event === 'result' && Array.isArray(message.results)) {
        loadResults = message.results;
      }
    };
    // Every process of the suite (servers, generators) is ours; the rest of the machine's CPU use is not.
    const cpuBefore = cpuSnapshot(this.processes.pids());
    const started = this.processes.start(
      process.execPath,
      ['--import', 'tsx', LOAD_SCRIPT, '--plan', planFile],
      { cwd: REPO, onLine, stdin: opts.untilStdinEnds === true },
    );
    const what = `the load generator for ${[...kindOfKey.keys()].join(', ')}`;
    const timeoutMs = (this.options.warmupSeconds + opts.seconds) * targets.length * 1000 + LOAD_SLACK_MS;
    const results = (async (): Promise<Map<string, AuthMeasurement>> => {
      const code = await withTimeout(started.exited, timeoutMs, () => stop(started.child, 2000)).catch(
        (e: Error) => {
          throw new Error(`${what}: ${e.message}:\n${started.output().slice(-2000)}`);
        },
      );
      const got = loadResults as AuthLoadResult[] | null;
      if (code !== 0 || got === null) {
        throw new Error(`${what} ended with ${code}:\n${started.output().slice(-2000)}`);
      }
      const othersCpu = otherShare(cpuBefore, cpuSnapshot(this.processes.pids()));
      const measured = new Map<string, AuthMeasurement>();
      for (const r of got) {
        const kind = kindOfKey.get(r.key);
        const clock = clocks.get(r.key);
        if (!kind || !clock) throw new Error(`the load generator reported an unknown target ${r.key}`);
        const m = measurement(r, kind, clock, othersCpu);
        this.log(describe(m));
        measured.set(r.key, m);
      }
      return measured;
    })();
    // A generator that ends before its timed phase must not leave a waiter hanging.
    void started.exited.then(() => timedStarted());
    return { timed, endInput: () => started.child.stdin?.end(), results };
  }

  async measure(
    servers: Partial<Record<ServerKind, AuthServer>>,
    credentialsFile: string,
    targets: Planned[],
    concurrency: number,
  ): Promise<Map<string, AuthMeasurement>> {
    return this.startLoad(servers, credentialsFile, targets, { concurrency, seconds: this.options.seconds })
      .results;
  }

  tempDir(name: string): string {
    const dir = mkdtempSync(join(tmpdir(), `certmaster-auth-bench-${name}-`));
    this.tempDirs.push(dir);
    return dir;
  }

  async run(): Promise<AuthSuiteResult> {
    const began = performance.now();
    const busyBefore = await otherCpuUse();
    if (busyBefore !== null && busyBefore > 0.1) {
      this.log(
        `warning: the CPUs were ${Math.round(busyBefore * 100)}% busy before the run; other work lowers every figure`,
      );
    }
    await ensureBuilt(this.processes, REPO, this.log);
    const root = this.tempDir('data');
    const data = await prepareAuthData(this.processes, REPO, root);
    const profileDir = (kind: ServerKind): string | null => {
      if (!this.options.profileDir) return null;
      const dir = join(this.options.profileDir, kind);
      mkdirSync(dir, { recursive: true });
      return dir;
    };
    const start = (dataDir: string, kind: ServerKind) =>
      startAuthServer(this.processes, {
        repo: REPO,
        dataDir,
        auditSink: kind === 'noop' ? 'noop' : 'log',
        profileDir: profileDir(kind),
      });
    const [audited, noop, floodServer, fastify] = await Promise.all([
      start(data.main, 'audited'),
      start(data.noop, 'noop'),
      start(data.flood, 'flood'),
      // Same key, certificate and CA as the audited server: one client configuration trusts both.
      startBareFastify(this.processes, { repo: REPO, dataDir: data.main }),
    ]);
    const servers: Record<ServerKind, AuthServer> = { audited, noop, flood: floodServer, fastify };
    const memory = new MemoryWatch();
    for (const kind of SERVER_KINDS) {
      // VmHWM of a new process covers its whole life, so the start-up is not missed by tracking now.
      memory.track(kind, servers[kind].started.child.pid, kind !== 'fastify');
    }
    const { credentialsFile } = data;

    // One generator for every request-path figure: the targets take turns in short slices, so a change
    // in the machine's load hits the audited and no-op servers, and each path and its bare route, alike.
    const paths: Planned[] = [
      ...PAIRED.flatMap(([, scenario]) => (['audited', 'noop'] as const).map((kind) => ({ kind, scenario }))),
      { kind: 'audited', scenario: 'basic' },
      { kind: 'audited', scenario: 'digest' },
      { kind: 'fastify', scenario: 'bare' },
      { kind: 'fastify', scenario: 'bare-401' },
    ];
    this.log(
      `servers up; ${paths.length} request paths in turns of ${SLICE_SECONDS} s, ${this.options.seconds} s each after ${this.options.warmupSeconds} s of warm-up each`,
    );
    memory.phase('request paths');
    const measured = await this.measure(servers, credentialsFile, paths, CONCURRENCY);
    memory.phase('token grants');
    const grants = await this.measure(
      servers,
      credentialsFile,
      [
        { kind: 'audited', scenario: 'client-credentials' },
        { kind: 'audited', scenario: 'refresh-token' },
      ],
      CONCURRENCY,
    );
    const get = (from: Map<string, AuthMeasurement>, kind: ServerKind, scenario: AuthScenario) => {
      const m = from.get(keyOf(kind, scenario));
      if (!m) throw new Error(`no measurement of ${keyOf(kind, scenario)}`);
      return m;
    };
    const pairsOf = (kind: ServerKind): Record<PairedKey, AuthMeasurement> => ({
      bare: get(measured, kind, 'bare'),
      bearer: get(measured, kind, 'bearer'),
      bare401: get(measured, kind, 'bare-401'),
      anonymous401: get(measured, kind, 'anonymous-401'),
    });
    const basic = get(measured, 'audited', 'basic');
    const digest = get(measured, 'audited', 'digest');
    const clientCredentials = get(grants, 'audited', 'client-credentials');
    const refreshToken = get(grants, 'audited', 'refresh-token');

    this.log('the flood: a legitimate Bearer client alone, then while 127.0.0.2 sends wrong passwords');
    const legitimate: Planned[] = [{ kind: 'flood', scenario: 'bearer' }];
    memory.phase('flood: the legitimate client alone');
    const baseline = get(
      await this.measure(servers, credentialsFile, legitimate, LEGIT_CONCURRENCY),
      'flood',
      'bearer',
    );
    const floodLoad = this.startLoad(servers, credentialsFile, [{ kind: 'flood', scenario: 'flood' }], {
      concurrency: FLOOD_CONCURRENCY,
      seconds: FLOOD_MAX_SECONDS,
      localAddress: FLOOD_ADDRESS,
      untilStdinEnds: true,
    });
    memory.phase('flood: wrong passwords and the legitimate client');
    // Awaited below; marked handled now so that a failure of the legitimate client is the error reported.
    floodLoad.results.catch(() => undefined);
    await floodLoad.timed;
    let legit: AuthMeasurement;
    try {
      legit = get(
        await this.measure(servers, credentialsFile, legitimate, LEGIT_CONCURRENCY),
        'flood',
        'bearer',
      );
    } finally {
      floodLoad.endInput();
    }
    const flood = get(await floodLoad.results, 'flood', 'flood');

    for (const kind of SERVER_KINDS) {
      // Read before the stop: a process that has ended has no memory to read.
      memory.untrack(kind);
      await this.stopServer(servers[kind], kind);
    }
    const profiles = this.options.profileDir
      ? (['audited', 'noop', 'flood'] as const).map((server) => ({
          server,
          summary: summarizeProfiles(join(this.options.profileDir!, server), 25),
        }))
      : [];

    const auditedPairs = pairsOf('audited');
    const noopPairs = pairsOf('noop');
    const coresUsable = Math.min(availableParallelism(), 1 + HASHER_CONCURRENCY);
    const date = new Date().toISOString();
    const fastify200 = get(measured, 'fastify', 'bare');
    const fastify401 = get(measured, 'fastify', 'bare-401');
    const rateDrop = baseline.perSecond > 0 ? 1 - legit.perSecond / baseline.perSecond : 1;
    return {
      date,
      machine: {
        cpus: availableParallelism(),
        model: cpus()[0]?.model ?? 'unknown CPU',
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        busyBefore: busyBefore === null ? null : Math.round(busyBefore * 100) / 100,
      },
      seconds: this.options.seconds,
      warmupSeconds: this.options.warmupSeconds,
      coresUsable,
      audited: auditedPairs,
      noop: noopPairs,
      fastify: { bare: fastify200, bare401: fastify401 },
      basic,
      digest,
      clientCredentials,
      refreshToken,
      flood: {
        baseline,
        legit,
        flood,
        p99TargetMs: TARGET_FLOOD_P99_MS,
        met: legit.latencyMs.p99 < TARGET_FLOOD_P99_MS,
        rateDrop: round(rateDrop, 3),
        rateDropTarget: TARGET_FLOOD_RATE_DROP,
        rateMet: rateDrop < TARGET_FLOOD_RATE_DROP,
      },
      memory: memory.report(),
      ratios: [
        // The targets: against the bare Fastify server in its own process, same transport.
        ratio(
          'Bearer / bare Fastify 200 (audited)',
          auditedPairs.bearer,
          fastify200,
          TARGET_BEARER_VS_BARE,
          'bearer-vs-bare',
        ),
        ratio(
          '401 path / bare Fastify 401 (audited)',
          auditedPairs.anonymous401,
          fastify401,
          TARGET_REFUSAL_VS_BARE_401,
          'refusal-vs-bare-401',
        ),
        ratio('Basic / bare Fastify 200 (audited)', basic, fastify200, null),
        ratio('Digest / bare Fastify 200 (audited)', digest, fastify200, null),
        ratio('Bearer / bare Fastify 200 (no-op audit sink)', noopPairs.bearer, fastify200, null),
        ratio('401 path / bare Fastify 401 (no-op audit sink)', noopPairs.anonymous401, fastify401, null),
        ratio(
          'Bearer audited / no-op sink',
          auditedPairs.bearer,
          noopPairs.bearer,
          TARGET_AUDITED_VS_NOOP,
          'bearer-audit-cost',
        ),
        ratio(
          '401 path audited / no-op sink',
          auditedPairs.anonymous401,
          noopPairs.anonymous401,
          TARGET_AUDITED_VS_NOOP,
          'refusal-audit-cost',
        ),
        // Controls: the bench-only bare routes inside certmaster, against the same paths and each other.
        ratio('Bearer / in-process bare route (audited)', auditedPairs.bearer, auditedPairs.bare, null),
        ratio(
          '401 path / in-process bare-401 (audited)',
          auditedPairs.anonymous401,
          auditedPairs.bare401,
          null,
        ),
        ratio('in-process bare route / bare Fastify 200', auditedPairs.bare, fastify200, null),
        ratio('in-process bare-401 / bare Fastify 401', auditedPairs.bare401, fastify401, null),
        ratio('bare audited server / no-op server (control)', auditedPairs.bare, noopPairs.bare, null),
      ],
      grants: [
        grantRate('client_credentials', clientCredentials, coresUsable),
        grantRate('refresh_token', refreshToken, coresUsable),
      ],
      profiles,
      durationSeconds: Math.round((performance.now() - began) / 100) / 10,
    };
  }

  async stopServer(server: AuthServer, kind: ServerKind): Promise<void> {
    await stop(server.started.child, STOP_GRACE_MS);
    const code = await server.started.exited;
    // certmaster drains and exits 0 on SIGTERM.
    if (code !== 0)
      this.log(`warning: the ${kind} server ended with ${code}:\n${server.started.output().slice(-1000)}`);
  }

  async cleanUp(): Promise<void> {
    await this.processes.stopAll(STOP_GRACE_MS);
    this.removeTempDirs();
  }

  removeTempDirs(): void {
    for (const dir of this.tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  }
}

/** The share of CPU time in use over half a second (Linux), or elsewhere the load average per CPU. */
async function otherCpuUse(): Promise<number | null> {
  const sample = (): number[] | null => {
    try {
      const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
      const fields = line.trim().split(/\s+/).slice(1).map(Number);
      return fields.length >= 5 ? fields : null;
    } catch {
      return null;
    }
  };
  const before = sample();
  await new Promise((done) => setTimeout(done, 500));
  const after = sample();
  if (!before || !after) return (loadavg()[0] ?? 0) / availableParallelism();
  const delta = after.map((v, i) => v - (before[i] ?? 0));
  const total = delta.reduce((a, b) => a + b, 0);
  // The cpu line reads: user nice system idle iowait ...
  const idle = (delta[3] ?? 0) + (delta[4] ?? 0);
  return total > 0 ? 1 - idle / total : null;
}

/**
 * Runs the whole suite. Every process it starts is stopped and every temporary directory removed, also
 * on an error; on SIGINT or SIGTERM they are killed at once (and, if nobody else listens for the
 * signal, the process exits as it would have).
 */
export async function runAuthSuite(options: AuthSuiteOptions): Promise<AuthSuiteResult> {
  const suite = new AuthSuite(options);
  const onSignal = (signal: NodeJS.Signals) => {
    suite.processes.killAllNow();
    suite.removeTempDirs();
    if (process.listenerCount(signal) === 1) process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await suite.run();
  } finally {
    await suite.cleanUp();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function parseOptions(argv: string[]): AuthSuiteOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seconds: { type: 'string' },
      'warmup-seconds': { type: 'string' },
      profile: { type: 'string' },
      json: { type: 'boolean' },
    },
    strict: true,
  });
  const seconds = Number(values.seconds ?? 3);
  const warmupSeconds = Number(values['warmup-seconds'] ?? 1);
  if (!(seconds >= 1 && seconds <= 30)) throw new Error('--seconds must be from 1 to 30');
  if (!(warmupSeconds >= 0.2 && warmupSeconds <= 10))
    throw new Error('--warmup-seconds must be from 0.2 to 10');
  if (values.profile) {
    mkdirSync(resolve(values.profile), { recursive: true });
    // A fresh directory inside the one given, so that only this run's profiles are summed.
    return { seconds, warmupSeconds, profileDir: mkdtempSync(join(resolve(values.profile), 'auth-suite-')) };
  }
  return { seconds, warmupSeconds };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    const json = process.argv.includes('--json');
    const options = parseOptions(process.argv.slice(2));
    const result = await runAuthSuite(options);
    console.log(`\n${formatAuthSuite(result)}`);
    if (json) console.log(JSON.stringify(result));
  } catch (e) {
    console.error(`auth-suite: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}
