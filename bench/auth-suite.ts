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
import type { AuthLoadResult, LoadPlan } from './auth-load.js';
import { AuthProcesses, type CpuTime } from './auth-processes.js';
import type { AuthScenario } from './auth-scenarios.js';
import { type AuthServer, ensureBuilt, prepareAuthData, startAuthServer } from './auth-server.js';
import { stop, withTimeout } from './processes.js';
import { type ProfileSummary, summarizeProfiles } from './profile-summary.js';

export interface AuthSuiteOptions {
  seconds: number;
  warmupSeconds: number;
  /** Runs every server under `node --cpu-prof`, one subdirectory each; the figures then include its overhead. */
  profileDir?: string;
  /** Progress lines; default console.log. */
  log?: (line: string) => void;
}

export type ServerKind = 'audited' | 'noop' | 'flood';

export interface AuthMeasurement extends AuthLoadResult {
  server: ServerKind;
  /** Wall time of the target's timed slices, from their start and end markers as the suite saw them. */
  wallMs: number;
  /** The server's CPU time (every thread) during those slices; null without /proc. */
  serverCpuMs: number | null;
  /** Server CPU time per expected answer. */
  serverCpuUsPerAnswer: number | null;
  /** The server's main thread (its event loop) alone, per expected answer: 1e6 / this bounds the rate. */
  mainThreadUsPerAnswer: number | null;
  /** serverCpuMs / wallMs: 1 is one core kept busy. Well under 1 means the load generator set the pace. */
  serverCores: number | null;
}

export interface AuthRatio {
  name: string;
  /** From answers per second. */
  value: number;
  /** The same ratio from server CPU time per answer (what the rates would be if the server alone limited them). */
  byServerCpu: number | null;
  /** Null for ratios printed for information. */
  target: number | null;
  met: boolean | null;
}

export interface GrantRate {
  grant: 'client_credentials' | 'refresh_token';
  perSecond: number;
  /** perSecond divided by the cores the server can use. */
  perCore: number;
  /** Grants per second of server CPU time (every thread). */
  perServerCpuSecond: number | null;
  target: number;
  met: boolean;
}

type PairedKey = 'bare' | 'bearer' | 'bare401' | 'anonymous401';

export interface AuthSuiteResult {
  date: string;
  machine: { cpus: number; model: string; node: string; platform: string; busyBefore: number | null };
  seconds: number;
  warmupSeconds: number;
  /** min(CPUs, 1 event loop + the password hasher's concurrent argon2 runs on the libuv pool). */
  coresUsable: number;
  audited: Record<PairedKey, AuthMeasurement>;
  noop: Record<PairedKey, AuthMeasurement>;
  basic: AuthMeasurement;
  digest: AuthMeasurement;
  clientCredentials: AuthMeasurement;
  refreshToken: AuthMeasurement;
  flood: {
    /** The legitimate Bearer client alone, on the same server, just before the flood. */
    baseline: AuthMeasurement;
    /** The legitimate Bearer client while the flood runs. */
    legit: AuthMeasurement;
    /** The flood itself (wrong Basic passwords from 127.0.0.2). */
    flood: AuthMeasurement;
    p99TargetMs: number;
    met: boolean;
  };
  ratios: AuthRatio[];
  grants: GrantRate[];
  profiles: Array<{ server: ServerKind; summary: ProfileSummary }>;
  durationSeconds: number;
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOAD_SCRIPT = join(REPO, 'bench', 'auth-load.ts');
const CONCURRENCY = 32;
const FLOOD_CONCURRENCY = 16;
const LEGIT_CONCURRENCY = 4;
const FLOOD_ADDRESS = '127.0.0.2';
/** How long each target's turn lasts when several share one load generator. */
const SLICE_SECONDS = 0.5;
/** The flood lasts until the legitimate client is done; this only bounds it. */
const FLOOD_MAX_SECONDS = 60;
/** The password hasher's default bound on argon2 runs at once (src/auth/passwords.ts). */
const HASHER_CONCURRENCY = 2;
const LOAD_SLACK_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const TARGET_BEARER_VS_BARE = 0.6;
const TARGET_REFUSAL_VS_BARE_401 = 0.8;
const TARGET_AUDITED_VS_NOOP = 0.85;
const TARGET_FLOOD_P99_MS = 50;
/** Keycloak's sizing guide plans about 120 of each grant per vCPU; the target is five times that. */
const TARGET_GRANTS_PER_CORE = 600;

const PAIRED: ReadonlyArray<readonly [PairedKey, AuthScenario]> = [
  ['bare', 'bare'],
  ['bearer', 'bearer'],
  ['bare401', 'bare-401'],
  ['anonymous401', 'anonymous-401'],
];

const LABELS: Record<AuthScenario, string> = {
  bare: 'GET /__bench/bare (200, no auth, no audit)',
  'bare-401': 'GET /__bench/bare-401 (fixed 401)',
  bearer: 'GET /v1/whoami, Bearer access token',
  'anonymous-401': 'GET /v1/whoami, no credentials: 401',
  basic: 'GET /v1/whoami, Basic (verification cache)',
  digest: 'GET /v1/whoami, Digest SHA-256',
  'client-credentials': 'POST /oauth/token client_credentials',
  'refresh-token': 'POST /oauth/token refresh_token',
  flood: 'flood: wrong Basic passwords from 127.0.0.2',
};

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

const keyOf = (kind: ServerKind, scenario: AuthScenario): string => `${kind}:${scenario}`;

/** CPU time and wall time a target's slices added up to, as the suite saw them. */
interface SliceClock {
  wallMs: number;
  cpu: CpuTime | null;
  open: { wall: number; cpu: CpuTime | null } | null;
}

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
      const measured = new Map<string, AuthMeasurement>();
      for (const r of got) {
        const kind = kindOfKey.get(r.key);
        const clock = clocks.get(r.key);
        if (!kind || !clock) throw new Error(`the load generator reported an unknown target ${r.key}`);
        const m = measurement(r, kind, clock);
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
    const [audited, noop, floodServer] = await Promise.all([
      start(data.main, 'audited'),
      start(data.noop, 'noop'),
      start(data.flood, 'flood'),
    ]);
    const servers: Record<ServerKind, AuthServer> = { audited, noop, flood: floodServer };
    const { credentialsFile } = data;

    // One generator for every request-path figure: the targets take turns in short slices, so a change
    // in the machine's load hits the audited and no-op servers, and each path and its bare route, alike.
    const paths: Planned[] = [
      ...PAIRED.flatMap(([, scenario]) => (['audited', 'noop'] as const).map((kind) => ({ kind, scenario }))),
      { kind: 'audited', scenario: 'basic' },
      { kind: 'audited', scenario: 'digest' },
    ];
    this.log(
      `servers up; ${paths.length} request paths in turns of ${SLICE_SECONDS} s, ${this.options.seconds} s each after ${this.options.warmupSeconds} s of warm-up each`,
    );
    const measured = await this.measure(servers, credentialsFile, paths, CONCURRENCY);
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

    for (const kind of ['audited', 'noop', 'flood'] as const) await this.stopServer(servers[kind], kind);
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
      },
      ratios: [
        ratio('Bearer / bare (audited)', auditedPairs.bearer, auditedPairs.bare, TARGET_BEARER_VS_BARE),
        ratio(
          '401 path / bare-401 (audited)',
          auditedPairs.anonymous401,
          auditedPairs.bare401,
          TARGET_REFUSAL_VS_BARE_401,
        ),
        ratio('Basic / bare (audited)', basic, auditedPairs.bare, null),
        ratio('Digest / bare (audited)', digest, auditedPairs.bare, null),
        ratio('Bearer / bare (no-op audit sink)', noopPairs.bearer, noopPairs.bare, null),
        ratio('401 path / bare-401 (no-op audit sink)', noopPairs.anonymous401, noopPairs.bare401, null),
        ratio('Bearer audited / no-op sink', auditedPairs.bearer, noopPairs.bearer, TARGET_AUDITED_VS_NOOP),
        ratio(
          '401 path audited / no-op sink',
          auditedPairs.anonymous401,
          noopPairs.anonymous401,
          TARGET_AUDITED_VS_NOOP,
        ),
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

function ratio(
  name: string,
  numerator: AuthMeasurement,
  denominator: AuthMeasurement,
  target: number | null,
): AuthRatio {
  const value = denominator.perSecond > 0 ? numerator.perSecond / denominator.perSecond : 0;
  const a = numerator.serverCpuUsPerAnswer;
  const b = denominator.serverCpuUsPerAnswer;
  return {
    name,
    value: round(value, 3),
    byServerCpu: a !== null && b !== null && a > 0 ? round(b / a, 3) : null,
    target,
    met: target === null ? null : value >= target,
  };
}

function grantRate(grant: GrantRate['grant'], m: AuthMeasurement, coresUsable: number): GrantRate {
  const perCore = m.perSecond / coresUsable;
  return {
    grant,
    perSecond: m.perSecond,
    perCore: Math.round(perCore),
    perServerCpuSecond:
      m.serverCpuMs !== null && m.serverCpuMs > 0 ? Math.round(m.ok / (m.serverCpuMs / 1000)) : null,
    target: TARGET_GRANTS_PER_CORE,
    met: perCore >= TARGET_GRANTS_PER_CORE,
  };
}

function measurement(r: AuthLoadResult, kind: ServerKind, clock: SliceClock): AuthMeasurement {
  const { cpu, wallMs } = clock;
  const perAnswer = (ms: number | undefined) =>
    ms === undefined || r.ok === 0 ? null : Math.round((ms * 1000) / r.ok);
  return {
    ...r,
    server: kind,
    wallMs: Math.round(wallMs),
    serverCpuMs: cpu ? Math.round(cpu.totalMs) : null,
    serverCpuUsPerAnswer: perAnswer(cpu?.totalMs),
    mainThreadUsPerAnswer: perAnswer(cpu?.mainMs),
    serverCores: cpu && wallMs > 0 ? Math.round((cpu.totalMs / wallMs) * 100) / 100 : null,
  };
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

function describe(m: AuthMeasurement): string {
  const statuses = Object.entries(m.statuses)
    .map(([status, n]) => `${status === '0' ? 'error' : status}: ${n}`)
    .join(', ');
  const cpu =
    m.serverCpuUsPerAnswer === null
      ? ''
      : `, server ${m.serverCpuUsPerAnswer} µs CPU/answer (event loop ${m.mainThreadUsPerAnswer}), ${m.serverCores} cores busy`;
  const other = m.unexpected > 0 ? `; unexpected: ${m.failures.join(' | ')}` : '';
  return `${LABELS[m.scenario]} [${m.server} c${m.concurrency}]: ${m.perSecond}/s (p50 ${m.latencyMs.p50} ms, p99 ${m.latencyMs.p99} ms${cpu}; ${statuses})${other}`;
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

const pad = (text: string, width: number): string => text.padEnd(width);
const padLeft = (text: string, width: number): string => text.padStart(width);
const shown = (n: number | null, digits = 0): string => (n === null ? 'n/a' : n.toFixed(digits));

function measurementRow(m: AuthMeasurement): string {
  const name = `${LABELS[m.scenario]} [${m.server} c${m.concurrency}]`;
  return [
    pad(name, 62),
    padLeft(String(m.perSecond), 8),
    padLeft(m.latencyMs.p50.toFixed(1), 7),
    padLeft(m.latencyMs.p99.toFixed(1), 7),
    padLeft(shown(m.serverCpuUsPerAnswer), 8),
    padLeft(shown(m.mainThreadUsPerAnswer), 8),
    padLeft(shown(m.serverCores, 2), 7),
    padLeft(String(m.unexpected), 7),
  ].join(' ');
}

export function formatAuthSuite(result: AuthSuiteResult): string {
  const r = result;
  const lines = [
    `Front door and audit: ${r.date}, ${r.machine.cpus} CPUs (${r.machine.model}), Node ${r.machine.node}, ${r.machine.platform}`,
    `timed phases of ${r.seconds} s after ${r.warmupSeconds} s of warm-up; the suite took ${r.durationSeconds} s` +
      (r.machine.busyBefore === null
        ? ''
        : `; CPUs ${Math.round(r.machine.busyBefore * 100)}% busy before it`),
    '',
    `${pad('', 62)} ${padLeft('per s', 8)} ${padLeft('p50 ms', 7)} ${padLeft('p99 ms', 7)} ${padLeft('srv µs', 8)} ${padLeft('loop µs', 8)} ${padLeft('srv', 7)} ${padLeft('other', 7)}`,
    `${pad('', 62)} ${padLeft('', 8)} ${padLeft('', 7)} ${padLeft('', 7)} ${padLeft('CPU/ans', 8)} ${padLeft('CPU/ans', 8)} ${padLeft('cores', 7)} ${padLeft('answers', 7)}`,
  ];
  for (const [key] of PAIRED) {
    lines.push(measurementRow(r.audited[key]), measurementRow(r.noop[key]));
  }
  lines.push(
    ...[r.basic, r.digest, r.clientCredentials, r.refreshToken].map(measurementRow),
    measurementRow(r.flood.baseline),
    measurementRow(r.flood.legit).replace('[flood c4]', '[flood c4, under flood]'),
    measurementRow(r.flood.flood),
    '',
    `${pad('ratio', 48)} ${padLeft('by rate', 8)} ${padLeft('by CPU', 8)}   target   met`,
  );
  for (const q of r.ratios) {
    lines.push(
      `${pad(q.name, 48)} ${padLeft(q.value.toFixed(3), 8)} ${padLeft(shown(q.byServerCpu, 3), 8)}   ${
        q.target === null ? pad('', 8) : pad(`>= ${q.target}`, 8)
      } ${q.met === null ? '' : q.met ? 'yes' : 'NO'}`,
    );
  }
  lines.push(
    '',
    `Token endpoint (target ${TARGET_GRANTS_PER_CORE}/s per core: five times the ~120 per vCPU of Keycloak's sizing guide).`,
    `Cores the server can use: ${r.coresUsable} = min(${r.machine.cpus} CPUs, 1 event loop + ${HASHER_CONCURRENCY} argon2 runs on the libuv pool).`,
    `${pad('grant', 22)} ${padLeft('per s', 8)} ${padLeft('per core', 9)} ${padLeft('per server CPU-s', 17)}   met`,
  );
  for (const g of r.grants) {
    lines.push(
      `${pad(g.grant, 22)} ${padLeft(String(g.perSecond), 8)} ${padLeft(String(g.perCore), 9)} ${padLeft(
        shown(g.perServerCpuSecond),
        17,
      )}   ${g.met ? 'yes' : 'NO'}`,
    );
  }
  const { baseline, legit, flood } = r.flood;
  const count = (status: string): number => flood.statuses[status] ?? 0;
  const warmupCount = (status: string): number => flood.warmup.statuses[status] ?? 0;
  lines.push(
    '',
    `Flood: ${FLOOD_CONCURRENCY} clients on ${FLOOD_ADDRESS} sent ${flood.ok + flood.unexpected} wrong Basic passwords in ${flood.seconds} s (${count('401')} answered 401, ${count('429')} answered 429, ${flood.unexpected} otherwise);`,
    `  in its ${flood.warmup.seconds} s of warm-up before that: ${warmupCount('401')} answered 401 (each an argon2 check), ${warmupCount('429')} answered 429.`,
    `Legitimate Bearer client (c${legit.concurrency}, 127.0.0.1): p99 ${legit.latencyMs.p99} ms under the flood (target < ${r.flood.p99TargetMs} ms: ${
      r.flood.met ? 'met' : 'NOT met'
    }), ${baseline.latencyMs.p99} ms without it; ${legit.perSecond}/s under the flood, ${baseline.perSecond}/s without.`,
  );
  for (const { server, summary } of r.profiles) {
    lines.push('', `CPU profile of the ${server} server (top functions by self time):`);
    for (const f of summary.functions.slice(0, 15)) {
      lines.push(`  ${f.percent.toFixed(1).padStart(5)}%  ${f.name}  [${f.area}]`);
    }
    lines.push('  by area:');
    for (const a of summary.areas.slice(0, 12))
      lines.push(`  ${a.percent.toFixed(1).padStart(5)}%  ${a.area}`);
  }
  return lines.join('\n');
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
