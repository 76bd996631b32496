/** What to do about refusals of the HTTP front end and the server itself: arguments, paths, bodies, the audit log, bugs. */
import type { Reason } from '../../contract/refusals.js';
import type { Advisor } from './advisor.js';
import { printable } from './text.js';

type ServerReason = Extract<
  Reason,
  | 'invalid_argument'
  | 'invalid_request'
  | 'not_found'
  | 'body_too_large'
  | 'unsupported_media_type'
  | 'audit_unavailable'
  | 'internal_error'
>;

export const SERVER_ADVISORS: Record<ServerReason, Advisor> = {
  invalid_argument: (a) => ({
    meaning: `An argument was not valid${a.detail ? `: ${printable(a.detail, 300)}` : ''}.`,
    fix: a.record.told?.hint ? printable(a.record.told.hint, 300) : 'Fix the argument named above.',
    command: null,
  }),
  invalid_request: (a) => ({
    meaning: `The request did not match what the endpoint takes${a.detail ? `: ${printable(a.detail, 300)}` : ''}.`,
    fix: 'Fix the client: /openapi.json on the server describes every endpoint.',
    command: null,
  }),
  not_found: (a) => ({
    meaning: `Nothing is served at ${a.record.target === null ? 'that path' : printable(a.record.target, 200)}, or the request or certificate asked for does not exist.`,
    fix: 'Check the URL the client uses (a typo, or an older API version); /openapi.json lists the endpoints.',
    command: null,
  }),
  body_too_large: (a) => ({
    meaning: `The body was larger than the server accepts${a.detail ? ` (${printable(a.detail, 100)})` : ''}.`,
    fix: 'Send one PEM CSR; if a legitimate body really is larger, raise server.body_limit_bytes.',
    command: null,
  }),
  unsupported_media_type: (a) => ({
    meaning: `The body was not of the type the endpoint takes${a.cause ? ` (${printable(a.cause, 100)})` : ''}.`,
    fix: 'Send Content-Type: application/json (the OAuth endpoints take application/x-www-form-urlencoded).',
    command: null,
  }),
  audit_unavailable: (a) => {
    const { local } = a;

    return {
      meaning:
        'The audit log could not be written, so the server refused to act (it never acts without a record).',
      fix: 'Find out why the store refuses writes (disk full, database down, permissions) and fix it.',
      command: `certmaster doctor ${local}`,
    };
  },
  internal_error: (a) => ({
    meaning: 'The server failed while handling the request: a bug, or a resource it needs failed.',
    fix: `Find the error under request id ${printable(a.record.requestId, 100)} in the server log, and report it.`,
    command: `certmaster doctor ${a.local}`,
  }),
};
