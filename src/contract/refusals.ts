/**
 * Every reason certmaster gives for refusing a request: its HTTP status, the problem title, the
 * OAuth 2 error code a token endpoint answers with (RFC 6749 §5.2) where one applies, and the layer
 * that raises it. This is the only place a reason code is defined; `docs/refusals.md` is generated
 * from it (`npm run docs:refusals`) and a test fails when the two differ. The rows are kept by layer
 * in refusals/*.ts and assembled here; nothing outside src/contract is imported, since the SDK, the
 * server and the docs generator all read it.
 */
import type { RefusalEntry } from './refusal-entry.js';
import { ACME_REFUSALS } from './refusals/acme.js';
import { AUTH_REFUSALS } from './refusals/auth.js';
import { HTTP_REFUSALS } from './refusals/http.js';
import { OAUTH_REFUSALS } from './refusals/oauth.js';
import { RA_REFUSALS } from './refusals/ra.js';

export type { RefusalEntry, RefusalLayer } from './refusal-entry.js';

/** The rows live by layer in refusals/*.ts; the order here is the order of REASONS and of docs/refusals.md. */
export const REFUSALS = {
  ...AUTH_REFUSALS,
  ...OAUTH_REFUSALS,
  ...RA_REFUSALS,
  ...HTTP_REFUSALS,
  ...ACME_REFUSALS,
} as const satisfies Record<string, RefusalEntry>;

export type Reason = keyof typeof REFUSALS;

export const REASONS = Object.keys(REFUSALS) as Reason[];

export function isReason(value: string): value is Reason {
  return Object.hasOwn(REFUSALS, value);
}

/** The status a reason is answered with; 500 for a string that is no reason (an older record). */
export function statusOfReason(reason: string): number {
  return isReason(reason) ? REFUSALS[reason].status : 500;
}
