/**
 * Where a server's CPU time went: self time from V8 .cpuprofile files (node --cpu-prof), by function and by
 * area (TLS, JSON, Fastify, CSR checks, DER, signing, SQLite, Kysely...).
 *
 *   node --import tsx bench/profile-summary.ts DIR [--top 15]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  area: string;
  ms: number;
  /** Of the busy time: every sample but (idle). */
  percent: number;
  /** The function that called it most, for natives whose name alone says little. */
  topCaller: string;
}

export interface ProfileSummary {
  files: number;
  busyMs: number;
  idleMs: number;
  /** Part of busyMs spent loading and compiling modules, before serving. */
  startUpMs: number;
  functions: SelfTime[];
  areas: Array<{ area: string; ms: number; percent: number }>;
  /** certmaster's own functions by the time spent in them and what they call, start-up excluded. */
  certmasterInclusive: Array<{ name: string; ms: number; percent: number }>;
}

const MAX_PROFILE_BYTES = 512 * 1024 * 1024;
const MAX_FILES = 64;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => typeof n === 'number');
}

function parseProfile(text: string, file: string): CpuProfile {
  const data: unknown = JSON.parse(text);
  if (
    !isRecord(data) ||
    !Array.isArray(data.nodes) ||
    !isNumberArray(data.samples) ||
    !isNumberArray(data.timeDeltas)
  ) {
    throw new Error(`${file} is not a V8 CPU profile`);
  }
  const nodes: ProfileNode[] = data.nodes.map((node: unknown) => {
    if (!isRecord(node) || typeof node.id !== 'number' || !isRecord(node.callFrame)) {
      throw new Error(`${file} has a node without id or callFrame`);
    }
    const { functionName, url, lineNumber } = node.callFrame;
    return {
      id: node.id,
      children: isNumberArray(node.children) ? node.children : [],
      callFrame: {
        functionName: typeof functionName === 'string' ? functionName : '',
        url: typeof url === 'string' ? url : '',
        lineNumber: typeof lineNumber === 'number' ? lineNumber : -1,
      },
    };
  });
  return { nodes, samples: data.samples, timeDeltas: data.timeDeltas };
}

/** Where a function lives, relative to the repository or to node_modules. */
function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) return url.slice(modules + '/node_modules/'.length);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** The first rule that matches names the area; the order matters (a Fastify file about JSON is Fastify's). */
const AREAS: ReadonlyArray<readonly [area: string, test: (f: CallFrame) => boolean]> = [
  [
    'JSON (fast-json-stringify, secure-json-parse)',
    (f) =>
      /node_modules\/(fast-json-stringify|secure-json-parse|fast-uri|json-schema-ref-resolver)\//.test(f.url),
  ],
  [
    'schema validation (ajv)',
    (f) => /node_modules\/(ajv|@fastify\/ajv-compiler|fast-deep-equal)/.test(f.url),
  ],
  [
    'Fastify (routing, hooks, reply)',
    (f) =>
      /node_modules\/(fastify|@fastify|find-my-way|avvio|light-my-request|toad-cache|fastq|reusify)\//.test(
        f.url,
      ),
  ],
  ['logging (pino)', (f) => /node_modules\/(pino|sonic-boom|thread-stream|quick-format)/.test(f.url)],
  ['Kysely', (f) => f.url.includes('node_modules/kysely/')],
  ['SQLite (better-sqlite3)', (f) => f.url.includes('node_modules/better-sqlite3/')],
  ['TLS', (f) => /^node:(_tls|tls|internal\/tls)/.test(f.url)],
  ['node:crypto (sign, verify, key import, hash, random)', (f) => f.url.startsWith('node:internal/crypto')],
  ['file system (node:fs)', (f) => /^node:(fs|internal\/fs)/.test(f.url)],
  ['Node HTTP', (f) => /^node:(_http|http|internal\/http)/.test(f.url)],
  [
    'sockets and streams',
    (f) => /^node:(net|stream|internal\/stream|internal\/streams|internal\/stream_base)/.test(f.url),
  ],
  [
    'event loop, promises, timers',
    (f) =>
      /^node:(internal\/process\/task_queues|internal\/timers|timers|events|internal\/async_hooks)/.test(
        f.url,
      ),
  ],
  ['certmaster CA (DER, issuance)', (f) => f.url.includes('/dist/ca/')],
  ['certmaster RA (CSR checks, names, policy, triggers)', (f) => f.url.includes('/dist/ra/')],
  ['certmaster store (SQL, group commit)', (f) => f.url.includes('/dist/store/')],
  ['certmaster audit', (f) => f.url.includes('/dist/audit/')],
  ['certmaster HTTP', (f) => f.url.includes('/dist/http/')],
  ['certmaster, other', (f) => f.url.includes('/dist/')],
  ['other node_modules', (f) => f.url.includes('/node_modules/')],
  ['Node internals, other', (f) => f.url.startsWith('node:')],
];

const START_UP = 'start-up (loading and compiling modules)';
const MAX_STACK_DEPTH = 1024;

function isModuleLoading(frame: CallFrame): boolean {
  return (
    frame.url.startsWith('node:internal/modules/') ||
    frame.url.startsWith('node:internal/bootstrap/') ||
    frame.functionName === 'wrapSafe'
  );
}

/**
 * The area of one sample, given its stack (innermost first). A native function without a script (readdir,
 * writev, a V8 builtin) counts in the area of the JavaScript that called it.
 */
function areaOf(stack: CallFrame[]): string {
  const [frame] = stack;
  if (!frame) return 'other';
  if (frame.functionName === '(garbage collector)') return 'garbage collection';
  if (frame.functionName === '(program)') return 'native, not attributed to JS ((program))';
  if (stack.some(isModuleLoading)) return START_UP;
  if (frame.url === '' && /^(parse|stringify)$/.test(frame.functionName)) return 'JSON (parse, stringify)';
  const scripted = stack.find((f) => f.url !== '');
  if (!scripted) return 'V8 builtins and native calls';
  return AREAS.find(([, test]) => test(scripted))?.[0] ?? 'other';
}

function nameOf(frame: CallFrame): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  return `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
}

const round = (n: number, digits: number): number => Math.round(n * 10 ** digits) / 10 ** digits;

function addTo(map: Map<string, number>, key: string, ms: number): void {
  map.set(key, (map.get(key) ?? 0) + ms);
}

/** Sums self time over every .cpuprofile in `dir`. */
export function summarizeProfiles(dir: string, top: number): ProfileSummary {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .slice(0, MAX_FILES);
  if (files.length === 0) throw new Error(`no .cpuprofile file in ${dir}`);
  const self = new Map<string, { ms: number; areas: Map<string, number>; callers: Map<string, number> }>();
  const areaTotals = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let idleMs = 0;
  for (const file of files) {
    const text = readFileSync(join(dir, file), 'utf8');
    if (text.length > MAX_PROFILE_BYTES) throw new Error(`${file} is larger than ${MAX_PROFILE_BYTES} bytes`);
    const profile = parseProfile(text, file);
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parentOf = new Map<number, number>();
    for (const node of profile.nodes) for (const child of node.children) parentOf.set(child, node.id);
    const stackOf = (id: number): CallFrame[] => {
      const stack: CallFrame[] = [];
      for (
        let at: number | undefined = id;
        at !== undefined && stack.length < MAX_STACK_DEPTH;
        at = parentOf.get(at)
      ) {
        const node = byId.get(at);
        if (!node || node.callFrame.functionName === '(root)') break;
        stack.push(node.callFrame);
      }
      return stack;
    };
    // As Chrome DevTools does: sample i lasts until sample i + 1.
    for (let i = 0; i < profile.samples.length; i++) {
      const stack = stackOf(profile.samples[i]!);
      const [frame] = stack;
      const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000;
      if (!frame) continue;
      if (frame.functionName === '(idle)') {
        idleMs += ms;
        continue;
      }
      const area = areaOf(stack);
      addTo(areaTotals, area, ms);
      const name = nameOf(frame);
      const entry = self.get(name) ?? {
        ms: 0,
        areas: new Map<string, number>(),
        callers: new Map<string, number>(),
      };
      entry.ms += ms;
      addTo(entry.areas, area, ms);
      addTo(entry.callers, stack[1] ? nameOf(stack[1]) : '(root)', ms);
      self.set(name, entry);
      if (area !== START_UP) {
        for (const f of new Set(stack.filter((f) => f.url.includes('/dist/')).map(nameOf)))
          addTo(inclusive, f, ms);
      }
    }
  }
  const busyMs = [...areaTotals.values()].reduce((sum, ms) => sum + ms, 0);
  const percent = (ms: number) => (busyMs > 0 ? round((100 * ms) / busyMs, 1) : 0);
  const largest = (map: Map<string, number>): string =>
    [...map.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
  const functions = [...self.entries()]
    .map(([name, e]) => ({
      name,
      area: largest(e.areas),
      ms: round(e.ms, 1),
      percent: percent(e.ms),
      topCaller: largest(e.callers) || '(root)',
    }))
    .sort((a, b) => b.ms - a.ms)
    .slice(0, top);
  const sorted = (map: Map<string, number>) =>
    [...map.entries()]
      .map(([name, ms]) => ({ name, ms: round(ms, 1), percent: percent(ms) }))
      .sort((a, b) => b.ms - a.ms);
  return {
    files: files.length,
    busyMs: round(busyMs, 1),
    idleMs: round(idleMs, 1),
    startUpMs: round(areaTotals.get(START_UP) ?? 0, 1),
    functions,
    areas: sorted(areaTotals).map(({ name, ms, percent }) => ({ area: name, ms, percent })),
    certmasterInclusive: sorted(inclusive).slice(0, top),
  };
}

export function formatSummary(summary: ProfileSummary): string {
  const row = (percent: number, ms: number, text: string) =>
    `  ${percent.toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${text}`;
  return [
    `CPU profile: ${summary.files} file(s), ${summary.busyMs.toFixed(0)} ms busy (${summary.startUpMs.toFixed(0)} ms of it start-up), ${summary.idleMs.toFixed(0)} ms idle`,
    '',
    `Top ${summary.functions.length} functions by self time (% of busy time):`,
    ...summary.functions.map(
      (f, i) =>
        `${String(i + 1).padStart(3)}. ${f.percent.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}  [${f.area}]\n${' '.repeat(24)}called from ${f.topCaller}`,
    ),
    '',
    'Self time by area (a native function counts in the area of the JavaScript calling it):',
    ...summary.areas.map((a) => row(a.percent, a.ms, a.area)),
    '',
    'certmaster functions by total time (their own and what they call; start-up excluded):',
    ...summary.certmasterInclusive.map((f) => row(f.percent, f.ms, f.name)),
  ].join('\n');
}

function main(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { top: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const [dir] = positionals;
  if (!dir) throw new Error('usage: profile-summary.ts DIR [--top N]');
  const top = Number(values.top ?? 15);
  if (!Number.isInteger(top) || top < 1 || top > 500)
    throw new Error('--top must be a whole number from 1 to 500');
  process.stdout.write(`${formatSummary(summarizeProfiles(dir, top))}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`profile-summary: ${(e as Error).message}\n`);
    process.exitCode = 1;
  }
}
