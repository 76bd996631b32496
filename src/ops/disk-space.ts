/**
 * Free space on the data directory's filesystem, against `audit.min_free_disk`: every refused request
 * is audited, so a full disk turns every action into 503 audit_unavailable. Read by the /metrics gauge,
 * the server's periodic warning and `doctor`.
 */
import { statfs } from 'node:fs/promises';
import { formatByteSize, parseByteSize } from '../util/byte-size.js';

/** How often the running server looks (one statfs call). */
export const DISK_CHECK_INTERVAL_MS = 60_000;
/** While the disk stays short, the warning is repeated this often, not on every check. */
const REPEAT_WARNING_MS = 15 * 60_000;

/** Bytes an unprivileged process may still write on the filesystem holding `dir`. */
export async function freeDiskBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

/** The setting in bytes (0: no warning); a value the schema let through always parses. */
export function minFreeDiskBytes(setting: string): number {
  return parseByteSize(setting) ?? 0;
}

export interface DiskSpaceStatus {
  freeBytes: number;
  minFreeBytes: number;
  low: boolean;
}

export async function diskSpaceStatus(dir: string, minFreeSetting: string): Promise<DiskSpaceStatus> {
  const freeBytes = await freeDiskBytes(dir);
  const minFreeBytes = minFreeDiskBytes(minFreeSetting);
  return { freeBytes, minFreeBytes, low: minFreeBytes > 0 && freeBytes < minFreeBytes };
}

export function lowDiskMessage(dir: string, status: DiskSpaceStatus): string {
  return `${formatByteSize(status.freeBytes)} free on the filesystem of ${dir}, below audit.min_free_disk (${formatByteSize(status.minFreeBytes)}): once it is full, every audited action is refused 503 audit_unavailable`;
}

export const LOW_DISK_FIX =
  'free space, or prune old audit records (certmaster audit prune --before 90d --data DIR, which returns the space on SQLite)';

export interface DiskWatchLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/**
 * Looks every DISK_CHECK_INTERVAL_MS (and once at start) and warns in the server log when free space
 * is below the threshold: at the crossing, then every REPEAT_WARNING_MS while it lasts, and says when it
 * is back above.
 */
export function watchDiskSpace(options: {
  dir: string;
  minFree: () => string;
  logger: DiskWatchLogger;
  intervalMs?: number;
}): { check(): Promise<void>; stop(): void } {
  let lastWarning: number | null = null;
  const check = async () => {
    let status: DiskSpaceStatus;
    try {
      status = await diskSpaceStatus(options.dir, options.minFree());
    } catch {
      return; // statfs of an existing directory does not fail in practice; the metric shows NaN then
    }
    const now = Date.now();
    if (status.low) {
      if (lastWarning === null || now - lastWarning >= REPEAT_WARNING_MS) {
        lastWarning = now;
        options.logger.warn(
          { freeBytes: status.freeBytes, minFreeBytes: status.minFreeBytes, dir: options.dir },
          `low disk space: ${lowDiskMessage(options.dir, status)}; ${LOW_DISK_FIX}`,
        );
      }
    } else if (lastWarning !== null) {
      lastWarning = null;
      options.logger.info(
        { freeBytes: status.freeBytes, minFreeBytes: status.minFreeBytes, dir: options.dir },
        'disk space is above audit.min_free_disk again',
      );
    }
  };
  const timer = setInterval(() => void check(), options.intervalMs ?? DISK_CHECK_INTERVAL_MS);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
