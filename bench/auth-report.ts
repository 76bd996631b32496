/**
 * The auth suite's report: one line per measurement as it comes, then the table, the ratios against
 * their targets, the token grants, the flood and the servers' memory.
 */
import {
  FLOOD_ADDRESS,
  FLOOD_CONCURRENCY,
  HASHER_CONCURRENCY,
  LABELS,
  PAIRED,
  TARGET_GRANTS_PER_CORE,
} from './auth-plan.js';
import type { AuthMeasurement, AuthSuiteResult } from './auth-suite.js';
import { formatMemory } from './memory.js';

export function describe(m: AuthMeasurement): string {
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

const pad = (text: string, width: number): string => text.padEnd(width);
const padLeft = (text: string, width: number): string => text.padStart(width);
const shown = (n: number | null, digits = 0): string => (n === null ? 'n/a' : n.toFixed(digits));

function measurementRow(m: AuthMeasurement, note = ''): string {
  const name = `${LABELS[m.scenario]} [${m.server} c${m.concurrency}${note}]`;
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

const percentOf = (share: number | null): string => (share === null ? 'n/a' : `${Math.round(share * 100)}%`);

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
    if (key === 'bare') lines.push(measurementRow(r.fastify.bare));
    if (key === 'bare401') lines.push(measurementRow(r.fastify.bare401));
  }
  lines.push(
    ...[r.basic, r.digest, r.clientCredentials, r.refreshToken].map((m) => measurementRow(m)),
    measurementRow(r.flood.baseline),
    measurementRow(r.flood.legit, ', under flood'),
    measurementRow(r.flood.flood),
    '',
    '[fastify] is the bare Fastify 5 server in its own process (bench/bare-fastify.ts), same HTTPS transport;',
    'the /__bench routes of [audited] and [noop] are the bench-only bare routes inside certmaster (controls).',
    '',
    `${pad('ratio', 48)} ${padLeft('by rate', 8)} ${padLeft('by CPU', 8)}   target   met  others`,
  );
  for (const q of r.ratios) {
    lines.push(
      `${pad(q.name, 48)} ${padLeft(q.value.toFixed(3), 8)} ${padLeft(shown(q.byServerCpu, 3), 8)}   ${
        q.target === null ? pad('', 8) : pad(`>= ${q.target}`, 8)
      } ${pad(q.met === null ? '' : q.met ? 'yes' : 'NO', 4)} ${padLeft(percentOf(q.othersCpu), 6)}`,
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
    }), ${baseline.latencyMs.p99} ms without it; ${legit.perSecond}/s under the flood, ${baseline.perSecond}/s without:`,
    `  a drop of ${Math.round(r.flood.rateDrop * 100)}% (target < ${Math.round(r.flood.rateDropTarget * 100)}%: ${
      r.flood.rateMet ? 'met' : 'NOT met'
    }).`,
    '',
    formatMemory(r.memory),
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
