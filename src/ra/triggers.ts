/**
 * Triggers, as Fedora Func's certmaster had them: executables in <dir>/<event>/<pre|post>/ run in
 * lexical order around each decision. A failing pre trigger vetoes the decision; a failing post
 * trigger is logged and changes nothing, since the decision is already recorded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { withoutUnsafe } from '../util/terminal-text.js';

export const TRIGGER_EVENTS = ['request', 'sign', 'reject', 'revoke', 'clean'] as const;
export type TriggerEventName = (typeof TRIGGER_EVENTS)[number];
export type TriggerPhase = 'pre' | 'post';

export interface TriggerEvent {
  event: TriggerEventName;
  phase: TriggerPhase;
  commonName: string;
  names?: string[];
  requestId?: string;
  serial?: string;
  reason?: string;
  requester?: string;
}

export type TriggerOutcome = { ok: true } | { ok: false; trigger: string; message: string };

export interface TriggerLogger {
  warn(obj: object, msg: string): void;
}

export interface TriggerRunnerOptions {
  /** The triggers directory (`triggers.dir`, already resolved against the data directory). */
  dir: string;
  /** How long one trigger may run before its process group is killed. */
  timeoutMs: number;
  logger?: TriggerLogger;
  /** How long "this phase has no directory" is remembered; 0 looks every time. Default 1000. */
  absentCacheMs?: number;
}

/** Output kept per stream; the tail is what matters, since the message is the last line. */
const OUTPUT_LIMIT = 64 * 1024;
const MESSAGE_LIMIT = 300;
const MAX_TRIGGERS_PER_PHASE = 100;
/** After a kill, how long to wait for the pipes to close before giving up on them. */
const KILL_GRACE_MS = 2000;
/** Only these reach a trigger from certmaster's own environment: no secrets leak into triggers. */
const INHERITED_ENV = ['PATH', 'HOME', 'LANG'] as const;

type Execution =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { kind: 'timed_out' }
  | { kind: 'not_executed'; code: string; message: string };

type Listing = { ok: true; files: string[] } | { ok: false; message: string };

export class TriggerRunner {
  private readonly dir: string;
  private readonly timeoutMs: number;
  private readonly logger: TriggerLogger | undefined;
  private readonly absentCacheMs: number;
  /** Phase directory -> until when (ms since epoch) it is known not to exist. */
  private readonly absentUntil = new Map<string, number>();
  private readonly phaseDirs = new Map<string, string>();

  constructor(opts: TriggerRunnerOptions) {
    this.dir = opts.dir;
    this.timeoutMs = opts.timeoutMs;
    this.logger = opts.logger;
    this.absentCacheMs = opts.absentCacheMs ?? 1000;
  }

  /**
   * Runs the event's triggers in order; a pre trigger that fails stops the rest and vetoes.
   * `beforeRunning` is awaited before the first trigger runs, and only when one will: the RA makes the
   * audit record of a request durable there, since a trigger is an action of its own.
   */
  async run(ev: TriggerEvent, beforeRunning?: () => Promise<void>): Promise<TriggerOutcome> {
    if (!TRIGGER_EVENTS.includes(ev.event) || (ev.phase !== 'pre' && ev.phase !== 'post')) {
      throw new Error(`unknown trigger event ${JSON.stringify(ev.event)}/${JSON.stringify(ev.phase)}`);
    }
    const phaseDir = this.phaseDir(ev.event, ev.phase);
    const listing = await this.list(phaseDir);
    if (!listing.ok) return this.fail(ev, `${ev.event}/${ev.phase}`, listing.message);
    if (listing.files.length === 0) return { ok: true };

    await beforeRunning?.();
    const env = triggerEnvironment(ev);
    for (const file of listing.files) {
      const execution = await execute(join(phaseDir, file), this.dir, env, this.timeoutMs);
      const failure = describeFailure(execution, this.timeoutMs);
      if (failure === null) continue;
      const outcome = this.fail(ev, file, failure);
      if (!outcome.ok) return outcome;
    }
    return { ok: true };
  }

  /** Joined once per event and phase: an issuance asks four times. */
  private phaseDir(event: TriggerEventName, phase: TriggerPhase): string {
    const key = `${event}/${phase}`;
    let dir = this.phaseDirs.get(key);
    if (dir === undefined) {
      dir = join(this.dir, event, phase);
      this.phaseDirs.set(key, dir);
    }
    return dir;
  }

  /** A pre failure is a veto; a post failure is only logged, because the decision already stands. */
  private fail(ev: TriggerEvent, trigger: string, message: string): TriggerOutcome {
    if (ev.phase === 'pre') return { ok: false, trigger, message };
    this.logger?.warn(
      { trigger, event: ev.event, phase: ev.phase, commonName: ev.commonName, message },
      'post trigger failed; the decision stands',
    );
    return { ok: true };
  }

  private async list(phaseDir: string): Promise<Listing> {
    const absentUntil = this.absentUntil.get(phaseDir);
    if (absentUntil !== undefined && Date.now() < absentUntil) return { ok: true, files: [] };
    let names: string[];
    try {
      names = await readdir(phaseDir);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        if (this.absentCacheMs > 0) this.absentUntil.set(phaseDir, Date.now() + this.absentCacheMs);
        return { ok: true, files: [] };
      }
      // Triggers that exist but cannot be read must not be silently skipped: that would bypass a veto.
      return { ok: false, message: `cannot read the trigger directory ${phaseDir}: ${code ?? 'error'}` };
    }
    this.absentUntil.delete(phaseDir);
    // Plain code-unit order, so the order does not depend on the locale.
    const candidates = names.filter((name) => !name.startsWith('.')).sort();
    // An empty directory (as init leaves them) is remembered like an absent one: the request path
    // asks four times per certificate, and a trigger added later still runs within absentCacheMs.
    if (candidates.length === 0) {
      if (this.absentCacheMs > 0) this.absentUntil.set(phaseDir, Date.now() + this.absentCacheMs);
      return { ok: true, files: [] };
    }
    const files: string[] = [];
    for (const name of candidates) {
      if (await isExecutableFile(join(phaseDir, name))) files.push(name);
    }
    if (files.length > MAX_TRIGGERS_PER_PHASE) {
      return {
        ok: false,
        message: `${phaseDir} holds ${files.length} triggers; at most ${MAX_TRIGGERS_PER_PHASE} are run`,
      };
    }
    return { ok: true, files };
  }
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function triggerEnvironment(ev: TriggerEvent): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of INHERITED_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  const set = (name: string, value: string | undefined) => {
    // A NUL cannot be passed in an environment variable; the names were validated long before this.
    if (value !== undefined) env[name] = value.replace(/\0/g, '');
  };
  set('CERTMASTER_EVENT', ev.event);
  set('CERTMASTER_PHASE', ev.phase);
  set('CERTMASTER_CN', ev.commonName);
  set('CERTMASTER_NAMES', ev.names?.join(','));
  set('CERTMASTER_REQUEST_ID', ev.requestId);
  set('CERTMASTER_SERIAL', ev.serial);
  set('CERTMASTER_REASON', ev.reason);
  set('CERTMASTER_REQUESTER', ev.requester);
  return env;
}

/** Keeps the last `limit` bytes written to it. */
class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - (this.chunks[0]?.length ?? 0) >= this.limit) {
      this.size -= this.chunks.shift()?.length ?? 0;
    }
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8');
  }
}

/** Kills the trigger's whole process group, so a shell's children (a `sleep`) die with it. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}

/**
 * Runs one trigger without a shell (argument vector only), stdin closed, in its own process group
 * (`detached`) so that a timeout can kill everything it started.
 */
function execute(
  file: string,
  cwd: string,
  env: Record<string, string>,
  timeoutMs: number,
): Promise<Execution> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawn(file, [], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, shell: false });
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      resolve({ kind: 'not_executed', code: e.code ?? 'error', message: e.message });
      return;
    }
    const stdout = new OutputTail(OUTPUT_LIMIT);
    const stderr = new OutputTail(OUTPUT_LIMIT);
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));

    let settled = false;
    let timedOut = false;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    let graceTimer: NodeJS.Timeout | undefined;
    const finish = (result: Execution) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(graceTimer);
      resolve(result);
    };
    const exited = (): Execution =>
      timedOut || !exit
        ? { kind: 'timed_out' }
        : {
            kind: 'exited',
            code: exit.code,
            signal: exit.signal,
            stdout: stdout.text(),
            stderr: stderr.text(),
          };

    const timer = setTimeout(() => {
      // Also reached when the trigger exited but left a process holding its output open: kill that
      // too, and let the trigger's own exit status stand.
      timedOut = exit === null;
      killGroup(child);
      graceTimer = setTimeout(() => {
        // Something escaped the group (setsid) and still holds the pipes; stop waiting for it.
        child.stdout?.destroy();
        child.stderr?.destroy();
        finish(exited());
      }, KILL_GRACE_MS);
    }, timeoutMs);

    child.on('error', (err: NodeJS.ErrnoException) => {
      finish({ kind: 'not_executed', code: err.code ?? 'error', message: err.message });
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
    });
    child.on('close', () => finish(exited()));
  });
}

const EXEC_ERRORS: Record<string, string> = {
  EACCES: 'permission denied',
  ENOENT: 'the file or the interpreter named on its #! line does not exist',
  ENOEXEC: 'not an executable format; does the script start with a #! line?',
};

function describeFailure(execution: Execution, timeoutMs: number): string | null {
  switch (execution.kind) {
    case 'timed_out':
      return `timed out after ${Number((timeoutMs / 1000).toFixed(3))} s`;
    case 'not_executed':
      return `could not be executed: ${execution.code} (${EXEC_ERRORS[execution.code] ?? execution.message})`;
    case 'exited': {
      if (execution.code === 0) return null;
      const said = lastLine(execution.stderr) ?? lastLine(execution.stdout);
      if (said !== null) return said;
      return execution.code !== null
        ? `exited with status ${execution.code} and printed nothing`
        : `was killed by ${execution.signal ?? 'a signal'}`;
    }
  }
}

/** The last non-empty line, with control characters removed and cut to a readable length. */
function lastLine(text: string): string | null {
  const lines = text.split(/\r?\n/);
  for (let i = lines.length - 1; i >= 0; i--) {
    const clean = withoutUnsafe(lines[i] ?? '').trim();
    if (clean !== '') return clean.length > MESSAGE_LIMIT ? clean.slice(0, MESSAGE_LIMIT) : clean;
  }
  return null;
}
