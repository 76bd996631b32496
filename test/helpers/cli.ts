/** Drives the real `certmaster` bin (built to dist/) as a user would. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const BIN = resolve(import.meta.dirname, '..', '..', 'bin', 'certmaster.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 60_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...options.env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the bin without blocking the event loop (for commands that wait on a server in this process). */
export async function cliAsync(
  args: string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...options.env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code: code ?? -1, stdout, stderr };
}

export function tempDir(prefix: string, under: string = tmpdir()): { path: string; remove(): void } {
  const path = mkdtempSync(join(under, `certmaster-${prefix}-`));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export interface RunningServer {
  url: string;
  fingerprint: string;
  process: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts `certmaster serve` on a free port and resolves once it prints its URL. */
export async function startServer(
  dataDir: string,
  extra: string[] = [],
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<RunningServer> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--data', dataDir, '--listen', '127.0.0.1:0', '--log-level', 'warn', ...extra],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const deadline = Date.now() + 30_000;
  while (!/CA SHA-256 fingerprint: [0-9A-F:]{95}/.test(out) || !/serving (\S+)/.test(out)) {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${out}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /serving (\S+)/.exec(out)?.[1] ?? '';
  const fingerprint = /CA SHA-256 fingerprint: ([0-9A-F:]{95})/.exec(out)?.[1] ?? '';
  return {
    url,
    fingerprint,
    process: child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
