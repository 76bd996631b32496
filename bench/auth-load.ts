/**
 * The auth suite's load generator, in its own process so that it never shares an event loop with a
 * server:
 *
 *   node --import tsx bench/auth-load.ts --plan PLAN.json
 *
 * A plan names one or more targets (a scenario on a server). Each target gets its own keep-alive HTTPS
 * connections and `concurrency` workers, and a warm-up. Then the targets take turns in short slices
 * (forward, then backward, round after round) until each has had `seconds` of load: on a shared, noisy
 * machine every target then sees the same background, and their ratios hold even when the absolute
 * figures do not. Each slice is bracketed by {"event":"slice-start","key":K} and {"event":"slice-end",...}
 * lines on stdout, so the suite can read the server's CPU time around it; the last line is
 * {"event":"result","results":[AuthLoadResult...]}. Only answers with an expected status count.
 *
 * With `untilStdinEnds` (one target only) the timed phase also ends when stdin closes: the flood, which
 * lasts as long as the client it disturbs.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchClient, benchClient } from './auth-http.js';
import {
  type AuthScenario,
  type BenchCredentials,
  makeScenario,
  SCENARIOS,
  type Worker,
} from './auth-scenarios.js';

export interface LoadTarget {
  /** Names the target in events and results, e.g. "audited:bearer". */
  key: string;
  scenario: AuthScenario;
  /** https://127.0.0.1:PORT */
  url: string;
  caFile: string;
}

export interface LoadPlan {
  credentialsFile: string;
  targets: LoadTarget[];
  concurrency: number;
  /** Timed load per target. */
  seconds: number;
  /** Warm-up per target, before any timing. */
  warmupSeconds: number;
  /** Length of one turn; ignored with a single target. */
  sliceSeconds: number;
  /** Source address of the connections (127.0.0.x). */
  localAddress?: string;
  untilStdinEnds?: boolean;
}

export interface AuthLoadResult {
  key: string;
  scenario: AuthScenario;
  concurrency: number;
  /** Answers with an expected status in the timed slices. */
  ok: number;
  /** Other answers and transport errors in the timed slices. */
  unexpected: number;
  /** Sum of the target's timed slices. */
  seconds: number;
  /** ok / seconds. */
  perSecond: number;
  /** Of the ok answers. */
  latencyMs: { p50: number; p99: number; max: number };
  /** Timed answers by status ("0" for a transport error). */
  statuses: Record<string, number>;
  slices: number;
  warmup: { ok: number; unexpected: number; seconds: number; statuses: Record<string, number> };
  /** The first few unexpected answers, for the report. */
  failures: string[];
}

const MAX_TARGETS = 16;
const MAX_CONCURRENCY = 256;
/** Per target and phase; far above what one core answers in 60 s, so time is what ends a phase. */
const MAX_STEPS = 2_000_000;
const MAX_REPORTED_FAILURES = 5;
const MAX_LATENCIES = 1_000_000;
const REQUEST_TIMEOUT_MS = 10_000;
/** A slice shorter than this is not worth its drain (the answers still in flight when it ends). */
const MIN_SLICE_SECONDS = 0.05;

interface Tally {
  ok: number;
  unexpected: number;
  seconds: number;
  steps: number;
  latenciesMs: number[];
  statuses: Map<number, number>;
  failures: string[];
}

const emptyTally = (): Tally => ({
  ok: 0,
  unexpected: 0,
  seconds: 0,
  steps: 0,
  latenciesMs: [],
  statuses: new Map(),
  failures: [],
});

/**
 * Runs every worker for `seconds` (or until `stop`, or the step bound) and adds what they got to
 * `tally`; the slice lasts until its last answer, in-flight ones included.
 */
async function runSlice(
  workers: Worker[],
  seconds: number,
  tally: Tally,
  stopSignal: { stopped: boolean },
): Promise<void> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let lastAnswer = start;
  const run = async (worker: Worker): Promise<void> => {
    while (!stopSignal.stopped && tally.steps < MAX_STEPS && performance.now() < deadline) {
      tally.steps++;
      const sent = performance.now();
      const outcome = await worker.step();
      lastAnswer = performance.now();
      tally.statuses.set(outcome.status, (tally.statuses.get(outcome.status) ?? 0) + 1);
      if (outcome.ok) {
        tally.ok++;
        if (tally.latenciesMs.length < MAX_LATENCIES) tally.latenciesMs.push(lastAnswer - sent);
      } else {
        tally.unexpected++;
        if (tally.failures.length < MAX_REPORTED_FAILURES) {
          tally.failures.push(`HTTP ${outcome.status}${outcome.detail ? ` ${outcome.detail}` : ''}`);
        }
      }
    }
  };
  await Promise.all(workers.map(run));
  tally.seconds += (lastAnswer - start) / 1000;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));
  return Math.round(sorted[index]! * 100) / 100;
}

function byStatus(statuses: Map<number, number>): Record<string, number> {
  return Object.fromEntries([...statuses].map(([status, n]) => [String(status), n]));
}

function event(name: string, fields: object = {}): void {
  process.stdout.write(`${JSON.stringify({ event: name, ...fields })}\n`);
}

function progress(message: string): void {
  process.stderr.write(`auth-load: ${message}\n`);
}

interface Running {
  target: LoadTarget;
  client: BenchClient;
  workers: Worker[];
  warmup: Tally;
  timed: Tally;
  slices: number;
}

/** The order of one round: forward on even rounds, backward on odd ones, so no target always goes first. */
function roundOrder<T>(items: T[], round: number): T[] {
  return round % 2 === 0 ? items : [...items].reverse();
}

async function runPlan(plan: LoadPlan, credentials: BenchCredentials): Promise<AuthLoadResult[]> {
  const running: Running[] = [];
  const stopSignal = { stopped: false };
  try {
    for (const target of plan.targets) {
      const client = benchClient({
        url: new URL(target.url),
        caPem: readFileSync(target.caFile, 'utf8'),
        concurrency: plan.concurrency,
        ...(plan.localAddress ? { localAddress: plan.localAddress } : {}),
      });
      running.push({ target, client, workers: [], warmup: emptyTally(), timed: emptyTally(), slices: 0 });
      const scenario = await makeScenario(target.scenario, client, credentials);
      // One at a time: a worker's set-up may log in, and a burst of logins would only queue on argon2.
      for (let i = 0; i < plan.concurrency; i++) running.at(-1)!.workers.push(await scenario.worker(i));
    }
    for (const r of running) {
      await runSlice(r.workers, plan.warmupSeconds, r.warmup, { stopped: false });
      if (r.warmup.ok === 0) {
        throw new Error(
          `${r.target.key}: no expected answer during the warm-up: ${r.warmup.failures.join(' | ')}`,
        );
      }
    }
    if (plan.untilStdinEnds) {
      process.stdin.on('end', () => {
        stopSignal.stopped = true;
      });
      process.stdin.resume();
    }
    const slice = running.length === 1 ? plan.seconds : plan.sliceSeconds;
    const maxRounds = Math.ceil(plan.seconds / slice) + 2;
    for (let round = 0; round < maxRounds && !stopSignal.stopped; round++) {
      for (const r of roundOrder(running, round)) {
        const left = plan.seconds - r.timed.seconds;
        if (left < MIN_SLICE_SECONDS || stopSignal.stopped) continue;
        event('slice-start', { key: r.target.key });
        await runSlice(r.workers, Math.min(slice, left), r.timed, stopSignal);
        r.slices++;
        event('slice-end', { key: r.target.key });
      }
    }
    return running.map(({ target, timed, warmup, slices }) => {
      progress(
        `${target.key}: ${timed.ok} expected, ${timed.unexpected} not in ${timed.seconds.toFixed(2)} s`,
      );
      const latencies = timed.latenciesMs.sort((a, b) => a - b);
      return {
        key: target.key,
        scenario: target.scenario,
        concurrency: plan.concurrency,
        ok: timed.ok,
        unexpected: timed.unexpected,
        seconds: Math.round(timed.seconds * 1000) / 1000,
        perSecond: timed.seconds > 0 ? Math.round(timed.ok / timed.seconds) : 0,
        latencyMs: {
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          max: percentile(latencies, 100),
        },
        statuses: byStatus(timed.statuses),
        slices,
        warmup: {
          ok: warmup.ok,
          unexpected: warmup.unexpected,
          seconds: Math.round(warmup.seconds * 1000) / 1000,
          statuses: byStatus(warmup.statuses),
        },
        failures: [...warmup.failures, ...timed.failures].slice(0, MAX_REPORTED_FAILURES),
      };
    });
  } finally {
    for (const r of running) r.client.close();
  }
}

function readCredentials(file: string): BenchCredentials {
  const value: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const r = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const field = (name: string): string => {
    const v = r[name];
    if (typeof v !== 'string' || v === '') throw new Error(`${file} has no ${name}`);
    return v;
  };
  return {
    user: field('user'),
    password: field('password'),
    clientId: field('clientId'),
    clientSecret: field('clientSecret'),
  };
}

function bounded(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw new Error(`the plan's ${name} must be a number from ${min} to ${max}`);
  return value;
}

/** Checks a plan read from a file: the suite wrote it, but a bad one must fail here, not mid-run. */
export function checkPlan(value: unknown): LoadPlan {
  const p = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (typeof p.credentialsFile !== 'string') throw new Error('the plan has no credentialsFile');
  if (!Array.isArray(p.targets) || p.targets.length < 1 || p.targets.length > MAX_TARGETS) {
    throw new Error(`the plan must have 1 to ${MAX_TARGETS} targets`);
  }
  const targets = p.targets.map((t: unknown): LoadTarget => {
    const r = (typeof t === 'object' && t !== null ? t : {}) as Record<string, unknown>;
    const { key, scenario, url, caFile } = r;
    if (typeof key !== 'string' || typeof url !== 'string' || typeof caFile !== 'string')
      throw new Error('a target needs key, url and caFile');
    if (!SCENARIOS.some((s) => s === scenario)) throw new Error(`unknown scenario ${String(scenario)}`);
    const parsed = new URL(url);
    // The suite loads only servers it started itself, on this machine.
    if (parsed.protocol !== 'https:' || parsed.hostname !== '127.0.0.1')
      throw new Error('a target url must be https://127.0.0.1:PORT');
    return { key, scenario: scenario as AuthScenario, url, caFile };
  });
  const localAddress = p.localAddress;
  if (
    localAddress !== undefined &&
    (typeof localAddress !== 'string' || !/^127\.0\.0\.\d{1,3}$/.test(localAddress))
  ) {
    throw new Error('localAddress must be a 127.0.0.x address');
  }
  const untilStdinEnds = p.untilStdinEnds === true;
  if (untilStdinEnds && targets.length !== 1) throw new Error('untilStdinEnds takes a single target');
  return {
    credentialsFile: p.credentialsFile,
    targets,
    concurrency: Math.round(bounded(p.concurrency, 'concurrency', 1, MAX_CONCURRENCY)),
    seconds: bounded(p.seconds, 'seconds', 0.1, 120),
    warmupSeconds: bounded(p.warmupSeconds, 'warmupSeconds', 0.1, 30),
    sliceSeconds: bounded(p.sliceSeconds, 'sliceSeconds', MIN_SLICE_SECONDS, 60),
    ...(localAddress !== undefined ? { localAddress } : {}),
    untilStdinEnds,
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { plan: { type: 'string' } },
    strict: true,
  });
  if (!values.plan) throw new Error('usage: auth-load.ts --plan PLAN.json');
  const plan = checkPlan(JSON.parse(readFileSync(values.plan, 'utf8')));
  // The suite kills a stalled generator too, but a stall is easier to read from here.
  const targets = plan.targets.length;
  const watchdogMs =
    (plan.warmupSeconds + plan.seconds) * targets * 1000 + (targets + 2) * REQUEST_TIMEOUT_MS + 60_000;
  setTimeout(() => {
    progress(`still running after ${watchdogMs} ms; giving up`);
    process.exit(2);
  }, watchdogMs).unref();
  const results = await runPlan(plan, readCredentials(plan.credentialsFile));
  event('result', { results });
  // With untilStdinEnds stdin may still be open; it is all that would keep this process alive.
  process.stdin.destroy();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main();
  } catch (e) {
    progress((e as Error).message);
    process.exitCode = 1;
  }
}
