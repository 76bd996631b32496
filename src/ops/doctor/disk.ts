/** Free space on the data directory's filesystem: on a full disk every audited action is refused. */
import { formatByteSize } from '../../util/byte-size.js';
import { diskSpaceStatus, LOW_DISK_FIX, lowDiskMessage } from '../disk-space.js';
import { type CheckResult, ok, warn } from './result.js';

/** Below audit.min_free_disk a warning. */
export async function checkFreeDisk(root: string, minFree: string): Promise<CheckResult> {
  const status = await diskSpaceStatus(root, minFree);
  if (status.low) return warn('free-disk', lowDiskMessage(root, status), LOW_DISK_FIX);
  const threshold =
    status.minFreeBytes > 0 ? ` (audit.min_free_disk ${formatByteSize(status.minFreeBytes)})` : '';
  return ok('free-disk', `${formatByteSize(status.freeBytes)} free${threshold}`);
}
