/**
 * Every process the benchmark starts goes through here, so that all of them are stopped at the end, on an
 * error, or on Ctrl-C, and none outlives the run.
 */
import { type ChildProcess, spawn } from 'node:child_process';

const MAX_KEPT_OUTPUT = 16 * 1024;

export interface Started {
  child: ChildProcess;
  /** The last few KiB the process wrote to stdout and stderr, for error messages. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  exited: Promise<number | string>;
}

export class ProcessGroup {
  readonly #running = new Set<ChildProcess>();

  start(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Started {
    const child = spawn(command, args, {
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.env ? { env: { ...process.env, ...options.env } } : {}),
    });
    this.#running.add(child);
    let kept = '';
    const keep = (chunk: Buffer) => {
      kept = (kept + chunk.toString('utf8')).slice(-MAX_KEPT_OUTPUT);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const exited = new Promise<number | string>((resolve) => {
      child.on('error', (e) => {
        keep(Buffer.from(`\n${e.message}\n`));
        this.#running.delete(child);
        resolve(e.message);
      });
      child.on('exit', (code, signal) => {
        this.#running.delete(child);
        resolve(code ?? signal ?? 'unknown');
      });
    });
    return { child, output: () => kept, exited };
  }

  /** Runs a command to its end and returns its stdout; rejects on a non-zero exit or after `timeoutMs`. */
  async run(
    command: string,
    args: string[],
    options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
  ): Promise<string> {
    const started = this.start(command, args, options);
    let stdout = '';
    started.child.stdout?.on('data', (chunk: Buffer) => {
      if (stdout.length < MAX_KEPT_OUTPUT * 64) stdout += chunk.toString('utf8');
    });
    const code = await withTimeout(started.exited, options.timeoutMs, () => stop(started.child, 2000)).catch(
      (e: Error) => {
        throw new Error(`${command} ${args.join(' ')}: ${e.message}:\n${started.output().slice(-2000)}`);
      },
    );
    if (code !== 0) {
      throw new Error(`${command} ${args.join(' ')} ended with ${code}:\n${started.output().slice(-2000)}`);
    }
    return stdout;
  }

  /** SIGTERM to every running process, then SIGKILL to those still running after `graceMs`. */
  async stopAll(graceMs: number): Promise<void> {
    await Promise.all([...this.#running].map((child) => stop(child, graceMs)));
  }
}

/** Asks a process to stop, and kills it if it has not after `graceMs`. */
export async function stop(child: ChildProcess, graceMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const ended = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await ended;
  clearTimeout(timer);
}

/** Waits for `promise`; after `ms`, calls `onTimeout` and rejects. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => unknown): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void onTimeout();
      reject(new Error(`timed out after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves with the first match of `pattern` in the process's stdout; rejects if it exits or `ms` pass. */
export function waitForOutput(started: Started, pattern: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('utf8')).slice(-MAX_KEPT_OUTPUT);
      const match = pattern.exec(seen);
      if (match) finish(() => resolve(match));
    };
    const timer = setTimeout(
      () => finish(() => reject(new Error(`no ${pattern} in ${ms} ms:\n${started.output().slice(-2000)}`))),
      ms,
    );
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      started.child.stdout?.off('data', onData);
      settle();
    };
    started.child.stdout?.on('data', onData);
    void started.exited.then((code) =>
      finish(() => reject(new Error(`the process ended (${code}):\n${started.output().slice(-2000)}`))),
    );
  });
}
