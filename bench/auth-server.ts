/**
 * The auth suite's servers: dist/ built from the current src/, data directories made with the real CLI
 * (an administrator with digest secrets, a service account), and `certmaster serve` with the bench-only
 * routes on, with or without the audit writer. BENCH_WRITER_THREAD=1 runs the audited server with
 * `store.writer_thread true` (SQLite writes, the audit's among them, on a worker thread).
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { type AuthChild, type AuthProcesses, type CpuTime, processCpu } from './auth-processes.js';
import type { BenchCredentials } from './auth-scenarios.js';
import { waitForOutput } from './processes.js';

export interface AuthServer {
  url: string;
  caFile: string;
  started: AuthChild;
  /** CPU time the server has used so far, or null without /proc. */
  cpu(): CpuTime | null;
}

export interface AuthData {
  /** Throttle raised, so the Basic and Digest runs are never slowed by it. */
  main: string;
  /** The same directory, for the server whose audit writer is the no-op sink. */
  noop: string;
  /** The same again with the default throttle: the flood is meant to be throttled. */
  flood: string;
  credentialsFile: string;
  credentials: BenchCredentials;
}

const CLI_TIMEOUT_MS = 60_000;
const BUILD_TIMEOUT_MS = 180_000;
/** Generous: on a busy 2-core machine four servers starting at once can take a minute. */
const START_TIMEOUT_MS = 120_000;
const MAX_SOURCE_FILES = 5000;
/** Far above any failure count of the Basic and Digest runs (the schema's maximum). */
const RAISED_FREE_FAILURES = '100';
const ADMIN = 'admin';
const SERVICE_ACCOUNT = 'bench';

/** The .ts files under `dir`, relative to it (bounded). */
function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string): void => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      if (found.length >= MAX_SOURCE_FILES) return;
      const path = join(at, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found;
}

/** The source files whose compiled .js is missing or older than they are. */
export function staleSources(repo: string): string[] {
  const src = join(repo, 'src');
  return sourceFiles(src).filter((file) => {
    const compiled = join(repo, 'dist', file.replace(/\.ts$/, '.js'));
    return !existsSync(compiled) || statSync(compiled).mtimeMs < statSync(join(src, file)).mtimeMs;
  });
}

/**
 * Builds dist/ when a source file is newer than its output. tsc still writes its output when the tree
 * has type errors (another engineer mid-edit); that is said, and the run goes on with what was built.
 */
export async function ensureBuilt(
  processes: AuthProcesses,
  repo: string,
  log: (line: string) => void,
): Promise<void> {
  const stale = staleSources(repo);
  if (stale.length === 0) return;
  log(`dist/ is older than ${stale.length} source file(s) (${stale.slice(0, 3).join(', ')}...): building`);
  const tsc = join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await processes.run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: repo,
      timeoutMs: BUILD_TIMEOUT_MS,
      what: 'tsc -p tsconfig.build.json',
    });
  } catch (e) {
    if (!existsSync(join(repo, 'dist', 'cli', 'main.js'))) throw e;
    log(
      `warning: the build reported errors; measuring what it emitted:\n${(e as Error).message.slice(0, 1500)}`,
    );
  }
}

function cli(processes: AuthProcesses, repo: string, args: string[]): Promise<string> {
  return processes.run(process.execPath, [join(repo, 'bin', 'certmaster.js'), ...args], {
    cwd: repo,
    timeoutMs: CLI_TIMEOUT_MS,
    what: `certmaster ${args[0]} ${args[1] ?? ''}`.trim(),
  });
}

/** Three copies of one data directory, made as an operator would, and the credentials the load needs. */
export async function prepareAuthData(
  processes: AuthProcesses,
  repo: string,
  root: string,
): Promise<AuthData> {
  const main = join(root, 'main');
  const password = randomBytes(24).toString('base64url');
  const passwordFile = join(root, 'admin-password');
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  await cli(processes, repo, [
    ...['init', '--data', main, '--admin-user', ADMIN],
    ...['--admin-password-file', passwordFile, '--admin-digest'],
  ]);
  const added = await cli(processes, repo, [
    ...['client', 'add', SERVICE_ACCOUNT, '--role', 'operator', '--data', main, '--json'],
  ]);
  const parsed: unknown = JSON.parse(added);
  const secret = (parsed as { client_secret?: unknown }).client_secret;
  if (typeof secret !== 'string' || secret === '')
    throw new Error('`certmaster client add` printed no secret');
  const flood = join(root, 'flood');
  cpSync(main, flood, { recursive: true });
  await cli(processes, repo, [
    'config',
    'set',
    'auth.throttle_free_failures',
    RAISED_FREE_FAILURES,
    '--data',
    main,
  ]);
  const noop = join(root, 'noop');
  cpSync(main, noop, { recursive: true });
  if (process.env.BENCH_WRITER_THREAD === '1')
    await cli(processes, repo, ['config', 'set', 'store.writer_thread', 'true', '--data', main]);
  const credentials: BenchCredentials = {
    user: ADMIN,
    password,
    clientId: SERVICE_ACCOUNT,
    clientSecret: secret,
  };
  const credentialsFile = join(root, 'credentials.json');
  writeFileSync(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
  return { main, noop, flood, credentialsFile, credentials };
}

export async function startAuthServer(
  processes: AuthProcesses,
  options: { repo: string; dataDir: string; auditSink: 'log' | 'noop'; profileDir: string | null },
): Promise<AuthServer> {
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const started = processes.start(
    process.execPath,
    [
      ...profile,
      join(options.repo, 'bin', 'certmaster.js'),
      ...['serve', '--data', options.dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn'],
    ],
    {
      cwd: options.repo,
      env: {
        CERTMASTER_BENCH_ROUTES: '1',
        CERTMASTER_BENCH_AUDIT_SINK: options.auditSink === 'noop' ? 'noop' : undefined,
      },
    },
  );
  const match = await waitForOutput(
    started,
    /certmaster serving (https:\/\/127\.0\.0\.1:\d+)/,
    START_TIMEOUT_MS,
  );
  const pid = started.child.pid;
  return {
    url: match[1]!,
    caFile: join(options.dataDir, 'ca', 'ca.pem'),
    started,
    cpu: () => (pid === undefined ? null : processCpu(pid)),
  };
}

/**
 * The bare Fastify server (bench/bare-fastify.ts) in its own process, on the same transport as the
 * certmaster servers: HTTPS with `dataDir`'s server key and certificate, so clients trust it alike.
 */
export async function startBareFastify(
  processes: AuthProcesses,
  options: { repo: string; dataDir: string },
): Promise<AuthServer> {
  const caFile = join(options.dataDir, 'ca', 'ca.pem');
  const started = processes.start(
    process.execPath,
    [
      ...['--import', 'tsx', join(options.repo, 'bench', 'bare-fastify.ts')],
      ...['--key', join(options.dataDir, 'server', 'server.key')],
      ...['--cert', join(options.dataDir, 'server', 'server.pem'), '--ca', caFile],
    ],
    { cwd: options.repo },
  );
  const match = await waitForOutput(
    started,
    /bare fastify serving (https:\/\/127\.0\.0\.1:\d+)/,
    START_TIMEOUT_MS,
  );
  const pid = started.child.pid;
  return {
    url: match[1]!,
    caFile,
    started,
    cpu: () => (pid === undefined ? null : processCpu(pid)),
  };
}
