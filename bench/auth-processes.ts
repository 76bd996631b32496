/**
 * The processes of the auth suite: servers that need their own environment (the bench-only switches), and
 * load generators whose stdout is read line by line as they run, so the suite can sample the server's CPU
 * time exactly when a timed phase starts and ends. Every one is stopped at the end, on an error, or on a
 * signal, and none outlives the run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stop, withTimeout } from './processes.js';

const MAX_KEPT_OUTPUT = 16 * 1024;
const MAX_STDOUT = 4 * 1024 * 1024;
/** Threads of one server: its event loop, V8's helpers, the libuv pool; more means we read the wrong process. */
const MAX_THREADS = 256;

export interface AuthChild {
  child: ChildProcess;
  /** The last few KiB the process wrote to stdout and stderr, for error messages. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
}

export interface StartOptions {
  cwd: string;
  /** Added to (or, when undefined, removed from) this process's environment. */
  env?: Record<string, string | undefined>;
  /** Each complete stdout line, as it arrives. */
  onLine?: (line: string) => void;
  /** Keep stdin open as a pipe, so the suite can tell the process to finish by closing it. */
  stdin?: boolean;
}

export class AuthProcesses {
  readonly #running = new Set<ChildProcess>();

  start(command: string, args: string[], options: StartOptions): AuthChild {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [name, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[name];
      else env[name] = value;
    }
    const child = spawn(command, args, {
      cwd: options.cwd,
      env,
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    });
    this.#running.add(child);
    let kept = '';
    const keep = (text: string) => {
      kept = (kept + text).slice(-MAX_KEPT_OUTPUT);
    };
    let partial = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      keep(text);
      if (!options.onLine) return;
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      if (partial.length > MAX_STDOUT) partial = '';
      for (const line of lines) options.onLine(line);
    });
    child.stderr?.on('data', (chunk: Buffer) => keep(chunk.toString('utf8')));
    const exited = new Promise<number | string>((resolve) => {
      child.on('error', (e) => {
        keep(`\n${e.message}\n`);
        this.#running.delete(child);
        resolve(e.message);
      });
      child.on('exit', (code, signal) => {
        this.#running.delete(child);
        if (partial !== '' && options.onLine) options.onLine(partial);
        partial = '';
        resolve(code ?? signal ?? 'unknown');
      });
    });
    return { child, output: () => kept, exited };
  }

  /** Runs a command to its end and returns its stdout; rejects on a non-zero exit or after `timeoutMs`. */
  async run(
    command: string,
    args: string[],
    options: StartOptions & { timeoutMs: number; what: string },
  ): Promise<string> {
    let stdout = '';
    const started = this.start(command, args, {
      ...options,
      onLine: (line) => {
        if (stdout.length < MAX_STDOUT) stdout += `${line}\n`;
        options.onLine?.(line);
      },
    });
    const code = await withTimeout(started.exited, options.timeoutMs, () => stop(started.child, 2000)).catch(
      (e: Error) => {
        throw new Error(`${options.what}: ${e.message}:\n${started.output().slice(-2000)}`);
      },
    );
    if (code !== 0) throw new Error(`${options.what} ended with ${code}:\n${started.output().slice(-2000)}`);
    return stdout;
  }

  /** The process ids of every running process this group started. */
  pids(): number[] {
    return [...this.#running].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  /** SIGTERM to every running process, then SIGKILL to those still running after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.#running].map((child) => stop(child, graceMs)));
  }

  /** For signal handlers, which cannot wait: SIGKILL to every running process, now. */
  killAllNow(): void {
    for (const child of this.#running) child.kill('SIGKILL');
  }
}

export interface CpuTime {
  /** Every thread: the event loop, the libuv pool (argon2, WebCrypto), V8's helpers (GC, compiler). */
  totalMs: number;
  /** The main thread alone: the event loop, which no other thread can relieve. */
  mainMs: number;
}

/**
 * CPU time (user + system) a process has used so far, from each thread's schedstat (nanoseconds of
 * run time), or null where /proc is not there.
 */
export function processCpu(pid: number): CpuTime | null {
  try {
    const threads = readdirSync(`/proc/${pid}/task`).slice(0, MAX_THREADS);
    let totalNs = 0;
    let mainNs = 0;
    for (const tid of threads) {
      // A thread may end between the listing and the read: it then counts as nothing.
      let text = '';
      try {
        text = readFileSync(join(`/proc/${pid}/task`, tid, 'schedstat'), 'utf8');
      } catch {
        continue;
      }
      const ns = Number(text.trim().split(/\s+/)[0] ?? 0);
      if (!Number.isFinite(ns)) continue;
      totalNs += ns;
      if (tid === String(pid)) mainNs = ns;
    }
    return totalNs > 0 ? { totalMs: totalNs / 1e6, mainMs: mainNs / 1e6 } : null;
  } catch {
    return null;
  }
}
