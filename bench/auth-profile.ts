/**
 * Where one auth-suite scenario's server time goes: a server under `node --cpu-prof`, one load run, and
 * the profile cut to the timed phase (start-up and warm-up left out), with each function's and area's
 * self time per answer:
 *
 *   node --import tsx bench/auth-profile.ts --scenario bearer [--audit noop] [--seconds 5] [--concurrency 32]
 *
 * The profiler's own overhead lowers the rate; compare areas between scenarios, not the absolute figures.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { AuthLoadResult, LoadPlan } from './auth-load.js';
import { AuthProcesses, type CpuTime } from './auth-processes.js';
import { type AuthScenario, SCENARIOS } from './auth-scenarios.js';
import { ensureBuilt, prepareAuthData, startAuthServer } from './auth-server.js';
import { stop } from './processes.js';
import { summarizeProfiles } from './profile-summary.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LOAD_SCRIPT = join(REPO, 'bench', 'auth-load.ts');
const MAX_PROFILE_BYTES = 512 * 1024 * 1024;

interface Options {
  scenario: AuthScenario;
  audit: 'log' | 'noop';
  seconds: number;
  warmupSeconds: number;
  concurrency: number;
  top: number;
}

/** Microseconds on CLOCK_MONOTONIC: the clock of V8's profile timestamps on Linux. */
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);

/**
 * Keeps the samples taken between `fromUs` and `toUs`. A contiguous slice keeps every kept sample's
 * duration (the next sample's delta) right.
 */
function cutProfile(file: string, out: string, fromUs: number, toUs: number): number {
  const text = readFileSync(file, 'utf8');
  if (text.length > MAX_PROFILE_BYTES) throw new Error(`${file} is larger than ${MAX_PROFILE_BYTES} bytes`);
  const profile = JSON.parse(text) as {
    startTime: number;
    samples: number[];
    timeDeltas: number[];
  } & Record<string, unknown>;
  let at = profile.startTime;
  let first = -1;
  let last = -1;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (at < fromUs) continue;
    if (at > toUs) break;
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0) throw new Error('the profile has no sample inside the timed phase');
  const cut = {
    ...profile,
    samples: profile.samples.slice(first, last + 1),
    timeDeltas: profile.timeDeltas.slice(first, last + 1),
  };
  writeFileSync(out, JSON.stringify(cut));
  return (last - first + 1) / profile.samples.length;
}

async function profileScenario(options: Options): Promise<void> {
  const processes = new AuthProcesses();
  const root = mkdtempSync(join(tmpdir(), 'certmaster-auth-profile-'));
  const onSignal = () => {
    processes.killAllNow();
    rmSync(root, { recursive: true, force: true });
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await ensureBuilt(processes, REPO, console.log);
    const data = await prepareAuthData(processes, REPO, root);
    const rawDir = join(root, 'profile');
    const cutDir = join(root, 'profile-timed');
    mkdirSync(rawDir);
    mkdirSync(cutDir);
    const server = await startAuthServer(processes, {
      repo: REPO,
      dataDir: options.scenario === 'flood' ? data.flood : options.audit === 'noop' ? data.noop : data.main,
      auditSink: options.audit,
      profileDir: rawDir,
    });
    let window: { fromUs: number; toUs: number } = { fromUs: 0, toUs: 0 };
    let cpuStart: CpuTime | null = null;
    let cpuEnd: CpuTime | null = null;
    let result: AuthLoadResult | null = null;
    const key = `${options.audit}:${options.scenario}`;
    const plan: LoadPlan = {
      credentialsFile: data.credentialsFile,
      targets: [{ key, scenario: options.scenario, url: server.url, caFile: server.caFile }],
      concurrency: options.concurrency,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
      sliceSeconds: options.seconds,
      ...(options.scenario === 'flood' ? { localAddress: '127.0.0.2' } : {}),
    };
    const planFile = join(root, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan), { mode: 0o600 });
    await processes.run(process.execPath, ['--import', 'tsx', LOAD_SCRIPT, '--plan', planFile], {
      cwd: REPO,
      timeoutMs: (options.seconds + options.warmupSeconds) * 1000 + 60_000,
      what: 'the load generator',
      onLine: (line) => {
        if (!line.startsWith('{')) return;
        const message = JSON.parse(line) as { event?: string; results?: AuthLoadResult[] };
        if (message.event === 'slice-start') {
          window = { fromUs: monotonicUs(), toUs: 0 };
          cpuStart = server.cpu();
        } else if (message.event === 'slice-end') {
          window = { ...window, toUs: monotonicUs() };
          cpuEnd = server.cpu();
        } else if (message.event === 'result') {
          result = message.results?.[0] ?? null;
        }
      },
    });
    await stop(server.started.child, 15_000);
    await server.started.exited;
    const answered = result as AuthLoadResult | null;
    if (answered === null || answered.ok === 0) throw new Error('the load generator reported no answer');
    const files = readdirSync(rawDir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length !== 1) throw new Error(`expected one profile in ${rawDir}, found ${files.length}`);
    const kept = cutProfile(join(rawDir, files[0]!), join(cutDir, files[0]!), window.fromUs, window.toUs);
    const summary = summarizeProfiles(cutDir, options.top);
    const perAnswer = (ms: number) => ((ms * 1000) / answered.ok).toFixed(1).padStart(7);
    const before = cpuStart as CpuTime | null;
    const after = cpuEnd as CpuTime | null;
    console.log(
      `${options.scenario} (${options.audit === 'noop' ? 'no-op audit sink' : 'audited'}, c${options.concurrency}, under the profiler): ${answered.perSecond}/s, ${answered.ok} answers in ${answered.seconds} s`,
    );
    if (before && after) {
      console.log(
        `server CPU per answer: ${perAnswer(after.totalMs - before.totalMs).trim()} µs, of which the event loop ${perAnswer(after.mainMs - before.mainMs).trim()} µs`,
      );
    }
    console.log(
      `profile cut to the timed phase (${Math.round(kept * 100)}% of its samples): event loop ${perAnswer(summary.busyMs).trim()} µs busy and ${perAnswer(summary.idleMs).trim()} µs idle per answer\n`,
    );
    console.log('µs/answer  share  function (self time)');
    for (const f of summary.functions) {
      console.log(`${perAnswer(f.ms)}  ${f.percent.toFixed(1).padStart(5)}%  ${f.name}  [${f.area}]`);
      console.log(`                  called from ${f.topCaller}`);
    }
    console.log('\nµs/answer  share  area');
    for (const a of summary.areas)
      console.log(`${perAnswer(a.ms)}  ${a.percent.toFixed(1).padStart(5)}%  ${a.area}`);
  } finally {
    await processes.stopAll(15_000);
    rmSync(root, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      audit: { type: 'string' },
      seconds: { type: 'string' },
      'warmup-seconds': { type: 'string' },
      concurrency: { type: 'string' },
      top: { type: 'string' },
    },
    strict: true,
  });
  const scenario = values.scenario;
  if (!SCENARIOS.some((s) => s === scenario))
    throw new Error(`--scenario must be one of ${SCENARIOS.join(', ')}`);
  const audit = values.audit ?? 'log';
  if (audit !== 'log' && audit !== 'noop') throw new Error('--audit must be log or noop');
  const number = (text: string | undefined, name: string, min: number, max: number, fallback: number) => {
    const value = Number(text ?? fallback);
    if (!Number.isFinite(value) || value < min || value > max)
      throw new Error(`--${name} must be from ${min} to ${max}`);
    return value;
  };
  return {
    scenario: scenario as AuthScenario,
    audit,
    seconds: number(values.seconds, 'seconds', 1, 60, 5),
    warmupSeconds: number(values['warmup-seconds'], 'warmup-seconds', 0.2, 10, 1),
    concurrency: Math.round(number(values.concurrency, 'concurrency', 1, 256, 32)),
    top: Math.round(number(values.top, 'top', 1, 200, 20)),
  };
}

try {
  await profileScenario(parseOptions(process.argv.slice(2)));
} catch (e) {
  console.error(`auth-profile: ${(e as Error).message}`);
  process.exitCode = 1;
}
