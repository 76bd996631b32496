/**
 * How much of the machine other work took while a phase ran (Linux /proc only). Every figure of this
 * benchmark is CPU-bound, so on a shared 2-core machine a busy neighbour halves it; saying so beside each
 * figure keeps a disturbed run from passing for a slow server.
 */
import { readFileSync } from 'node:fs';

export interface CpuSnapshot {
  /** Clock ticks of all CPUs since boot: busy, and in all. */
  busy: number;
  total: number;
  /** Ticks used by this process, its finished children, and the running processes named. */
  ours: number;
}

/** utime + stime (+ cutime + cstime when `children`), from /proc/PID/stat (proc(5)). */
function processTicks(pid: number | 'self', children: boolean): number {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces; the fields after it are plain numbers. utime is field 14.
    const fields = text
      .slice(text.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    const at = (field: number) => fields[field - 3] ?? 0;
    return at(14) + at(15) + (children ? at(16) + at(17) : 0);
  } catch {
    return 0;
  }
}

export function cpuSnapshot(runningPids: readonly number[]): CpuSnapshot | null {
  let line: string;
  try {
    line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  } catch {
    return null;
  }
  if (!line.startsWith('cpu ')) return null;
  // The cpu line reads: user nice system idle iowait irq softirq steal ...
  const ticks = line.slice(4).trim().split(/\s+/).slice(0, 8).map(Number);
  if (ticks.length < 5 || ticks.some((t) => !Number.isFinite(t))) return null;
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  const ours =
    processTicks('self', true) + runningPids.reduce((sum, pid) => sum + processTicks(pid, false), 0);
  return { busy: total - idle, total, ours };
}

/** The share of all CPU time between two snapshots that went to processes other than ours. */
export function otherShare(before: CpuSnapshot | null, after: CpuSnapshot | null): number | null {
  if (!before || !after) return null;
  const total = after.total - before.total;
  if (total <= 0) return null;
  const others = after.busy - before.busy - (after.ours - before.ours);
  return Math.min(1, Math.max(0, others / total));
}
