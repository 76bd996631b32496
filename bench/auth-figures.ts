/**
 * What the auth suite reports and how each figure is derived from a load generator's result and the
 * server's CPU time: the measurements, the ratios against their targets, the grant rates per core.
 */
import type { AuthLoadResult } from './auth-load.js';
import type { ServerKind } from './auth-plan.js';
import { type PairedKey, TARGET_GRANTS_PER_CORE } from './auth-plan.js';
import type { CpuTime } from './auth-processes.js';
import type { MemoryReport } from './memory.js';
import type { ProfileSummary } from './profile-summary.js';

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
  /**
   * The share of all CPU time that processes other than the suite's own took while the load generator
   * of this measurement ran (warm-up included); null without /proc.
   */
  othersCpu: number | null;
}

export interface AuthRatio {
  /** Names the issue-11 targets among the ratios, for the summary of `npm run bench`. */
  id?: 'bearer-vs-bare' | 'refusal-vs-bare-401' | 'bearer-audit-cost' | 'refusal-audit-cost';
  name: string;
  /** From answers per second. */
  value: number;
  /** The same ratio from server CPU time per answer (what the rates would be if the server alone limited them). */
  byServerCpu: number | null;
  /** Null for ratios printed for information. */
  target: number | null;
  met: boolean | null;
  /** The larger share of the CPUs other processes took while either side was measured. */
  othersCpu: number | null;
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

export interface AuthSuiteResult {
  date: string;
  machine: { cpus: number; model: string; node: string; platform: string; busyBefore: number | null };
  seconds: number;
  warmupSeconds: number;
  /** min(CPUs, 1 event loop + the password hasher's concurrent argon2 runs on the libuv pool). */
  coresUsable: number;
  audited: Record<PairedKey, AuthMeasurement>;
  noop: Record<PairedKey, AuthMeasurement>;
  /** The bare Fastify server in its own process: the yardstick of the front-door targets. */
  fastify: { bare: AuthMeasurement; bare401: AuthMeasurement };
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
    /** 1 - legit rate / baseline rate: how much of its rate the legitimate client lost to the flood. */
    rateDrop: number;
    rateDropTarget: number;
    rateMet: boolean;
  };
  /** Peak RSS of every server, per phase and overall. */
  memory: MemoryReport;
  ratios: AuthRatio[];
  grants: GrantRate[];
  profiles: Array<{ server: ServerKind; summary: ProfileSummary }>;
  durationSeconds: number;
}

/** CPU time and wall time a target's slices added up to, as the suite saw them. */
export interface SliceClock {
  wallMs: number;
  cpu: CpuTime | null;
  open: { wall: number; cpu: CpuTime | null } | null;
}

export function ratio(
  name: string,
  numerator: AuthMeasurement,
  denominator: AuthMeasurement,
  target: number | null,
  id?: AuthRatio['id'],
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
    othersCpu: worstOthers(numerator, denominator),
    ...(id ? { id } : {}),
  };
}

function worstOthers(...measurements: AuthMeasurement[]): number | null {
  const known = measurements.flatMap((m) => (m.othersCpu === null ? [] : [m.othersCpu]));
  return known.length === 0 ? null : Math.max(...known);
}

export function grantRate(grant: GrantRate['grant'], m: AuthMeasurement, coresUsable: number): GrantRate {
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

export function measurement(
  r: AuthLoadResult,
  kind: ServerKind,
  clock: SliceClock,
  othersCpu: number | null,
): AuthMeasurement {
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
    othersCpu: othersCpu === null ? null : round(othersCpu, 3),
  };
}

export const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;
