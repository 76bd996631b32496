/**
 * Peak resident memory of every server the benchmark starts, per phase and overall (issue 11: the
 * server's RSS stays under 300 MB through every phase). Linux /proc only; elsewhere nothing is reported.
 *
 * Two readings, the larger kept: VmRSS sampled every 100 ms, and VmHWM (the kernel's own peak, which
 * catches a spike between samples) reset at the start of each phase by writing 5 to
 * /proc/PID/clear_refs (proc(5)) and read at its end. Where the reset is refused, VmHWM would be the
 * peak since the process began, so it then counts for the first phase only and the samples for the rest.
 * A server's processes are counted together: it and its descendants (cluster workers, if any), summed,
 * which for VmHWM is an upper bound (the processes need not peak at once).
 *
 * Phases are contiguous: each lasts until the next begins, so the start-up and the gaps between load
 * runs belong to a phase too and no moment of a server's life goes unwatched.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

/** Issue 11. */
export const TARGET_RSS_MB = 300;
const SAMPLE_INTERVAL_MS = 100;
/** Bounds the walk of a server's descendants. */
const MAX_PROCESSES = 64;
const MAX_THREADS = 256;

export interface PhasePeak {
  server: string;
  phase: string;
  peakMb: number;
}

export interface ServerPeak {
  server: string;
  peakMb: number;
  /** Whether the 300 MB target applies (certmaster's servers; not cfssl or the bare Fastify server). */
  targeted: boolean;
  /** The phase the peak fell in. */
  phase: string;
}

export interface MemoryReport {
  phases: PhasePeak[];
  servers: ServerPeak[];
  /** Whether the phase peaks include VmHWM; false means 100 ms samples of VmRSS alone. */
  kernelPeaks: boolean;
}

interface Watched {
  server: string;
  pid: number;
  targeted: boolean;
  phase: string;
  /** Largest sampled VmRSS (kB) in the current phase. */
  sampledKb: number;
  /** VmHWM was reset when the phase began (or the process began with it), so it is the phase's own. */
  hwmIsPhases: boolean;
  peaks: PhasePeak[];
}

/** The process and its descendants, from /proc/PID/task/TID/children. */
function processTree(pid: number): number[] {
  const found = [pid];
  for (let i = 0; i < found.length && found.length < MAX_PROCESSES; i++) {
    const at = found[i]!;
    let threads: string[];
    try {
      threads = readdirSync(`/proc/${at}/task`).slice(0, MAX_THREADS);
    } catch {
      continue;
    }
    for (const tid of threads) {
      let text = '';
      try {
        text = readFileSync(`/proc/${at}/task/${tid}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const child of text.trim().split(/\s+/)) {
        const n = Number(child);
        if (child !== '' && Number.isInteger(n) && !found.includes(n)) found.push(n);
      }
    }
  }
  return found;
}

/** A field of /proc/PID/status in kB, or null once the process is gone. */
function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

function treeKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  let sum = 0;
  let any = false;
  for (const p of processTree(pid)) {
    const kb = statusKb(p, field);
    if (kb === null) continue;
    sum += kb;
    any = true;
  }
  return any ? sum : null;
}

/** Resets VmHWM of the process and its descendants; false if any refused. */
function resetPeaks(pid: number): boolean {
  let ok = true;
  for (const p of processTree(pid)) {
    try {
      writeFileSync(`/proc/${p}/clear_refs`, '5');
    } catch {
      ok = false;
    }
  }
  return ok;
}

const mb = (kb: number): number => Math.round(kb / 102.4) / 10;

export class MemoryWatch {
  readonly #watched = new Map<string, Watched>();
  readonly #done: Watched[] = [];
  #kernelPeaks = true;
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.#timer = setInterval(() => this.#sample(), SAMPLE_INTERVAL_MS);
    // Sampling must never keep the benchmark alive once it is done.
    this.#timer.unref();
  }

  /** Starts watching a server just started; its first phase is its start-up. */
  track(server: string, pid: number | undefined, targeted: boolean): void {
    if (pid === undefined) return;
    const watched: Watched = {
      server,
      pid,
      targeted,
      phase: 'start-up',
      sampledKb: 0,
      // A new process's VmHWM covers only its own life so far, which is this phase.
      hwmIsPhases: true,
      peaks: [],
    };
    this.#watched.set(server, watched);
    this.#sampleOne(watched);
  }

  /** Ends the current phase of every watched server and begins `name`. */
  phase(name: string): void {
    for (const watched of this.#watched.values()) {
      this.#close(watched);
      watched.phase = name;
    }
  }

  /** Ends the watch of one server (call it before stopping the server: a dead process has no peak). */
  untrack(server: string): void {
    const watched = this.#watched.get(server);
    if (!watched) return;
    this.#close(watched);
    this.#watched.delete(server);
    this.#done.push(watched);
  }

  /** Stops sampling and reports every phase of every server watched. */
  report(): MemoryReport {
    for (const server of [...this.#watched.keys()]) this.untrack(server);
    clearInterval(this.#timer);
    const servers: ServerPeak[] = [];
    for (const w of this.#done) {
      const top = w.peaks.reduce<PhasePeak | null>(
        (a, b) => (a === null || b.peakMb > a.peakMb ? b : a),
        null,
      );
      if (top)
        servers.push({ server: top.server, peakMb: top.peakMb, targeted: w.targeted, phase: top.phase });
    }
    return { phases: this.#done.flatMap((w) => w.peaks), servers, kernelPeaks: this.#kernelPeaks };
  }

  #sample(): void {
    for (const watched of this.#watched.values()) this.#sampleOne(watched);
  }

  #sampleOne(watched: Watched): void {
    const kb = treeKb(watched.pid, 'VmRSS');
    if (kb !== null && kb > watched.sampledKb) watched.sampledKb = kb;
  }

  #close(watched: Watched): void {
    this.#sampleOne(watched);
    const hwm = watched.hwmIsPhases ? treeKb(watched.pid, 'VmHWM') : null;
    const peakKb = Math.max(watched.sampledKb, hwm ?? 0);
    if (peakKb > 0) watched.peaks.push({ server: watched.server, phase: watched.phase, peakMb: mb(peakKb) });
    watched.sampledKb = 0;
    watched.hwmIsPhases = resetPeaks(watched.pid);
    if (!watched.hwmIsPhases) this.#kernelPeaks = false;
  }
}

/** A table of each server's peak per phase, then each server's overall peak against the target. */
export function formatMemory(report: MemoryReport): string {
  if (report.servers.length === 0) return 'Memory: no /proc here; RSS not measured.';
  const lines = [
    `Peak RSS per phase (MB; ${report.kernelPeaks ? 'VmHWM reset per phase, and VmRSS sampled' : 'VmRSS sampled'} every ${SAMPLE_INTERVAL_MS} ms; a server and its child processes together):`,
  ];
  const width = Math.max(...report.phases.map((p) => p.server.length)) + 2;
  for (const p of report.phases) {
    lines.push(`  ${p.server.padEnd(width)}${p.phase.padEnd(52)}${p.peakMb.toFixed(1).padStart(8)}`);
  }
  lines.push(`Peak RSS per server (target < ${TARGET_RSS_MB} MB for certmaster's servers):`);
  for (const s of report.servers) {
    const met = s.targeted ? (s.peakMb < TARGET_RSS_MB ? 'met' : 'NOT met') : 'no target';
    lines.push(`  ${s.server.padEnd(width)}${s.peakMb.toFixed(1).padStart(8)} MB  (${s.phase})  ${met}`);
  }
  return lines.join('\n');
}

/** The largest peak among the servers the target applies to, with where it fell; null if none was read. */
export function targetedPeak(reports: MemoryReport[]): ServerPeak | null {
  const all = reports.flatMap((r) => r.servers.filter((s) => s.targeted));
  return all.reduce<ServerPeak | null>((a, b) => (a === null || b.peakMb > a.peakMb ? b : a), null);
}
