/** Local operator commands act as "local operator" (whoever can read the data directory), under a fresh request id. */
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import type { Actor } from '../audit/event.js';

export function localActor(): Actor {
  let osUser = 'unknown';
  try {
    osUser = userInfo().username;
  } catch {
    // No passwd entry (containers): the id alone still links the records.
  }
  return {
    name: 'local operator',
    requestId: `local-${randomBytes(9).toString('base64url')}`,
    address: null,
    method: 'local',
    credentialId: `os-user:${osUser}`,
  };
}
