/**
 * Problem details (RFC 9457) with certmaster's extension members: reason, hint, request_id.
 * The only place that turns a reason code into an HTTP status.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

const STATUS: Record<string, { status: number; title: string }> = {
  invalid_request: { status: 400, title: 'The request is not well-formed' },
  csr_invalid: { status: 400, title: 'The certificate signing request is not valid' },
  name_invalid: { status: 400, title: 'A requested name is not valid' },
  key_too_weak: { status: 400, title: 'The public key is too weak' },
  invalid_argument: { status: 400, title: 'An argument is not valid' },
  credentials_missing: { status: 401, title: 'Credentials are required' },
  name_not_allowed: { status: 403, title: 'The requested names are not allowed' },
  enrollment_token_used_up: { status: 403, title: 'The enrollment token is used up' },
  request_vetoed: { status: 403, title: 'A site check refused the request' },
  request_rejected: { status: 403, title: 'An operator rejected the request' },
  not_found: { status: 404, title: 'Not found' },
  method_not_allowed: { status: 405, title: 'Method not allowed' },
  request_conflict: { status: 409, title: 'The request conflicts with an existing one' },
  not_pending: { status: 409, title: 'The request is not pending' },
  body_too_large: { status: 413, title: 'The request body is too large' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  internal_error: { status: 500, title: 'Internal error' },
  ca_unavailable: { status: 503, title: 'The CA cannot issue certificates' },
  audit_unavailable: { status: 503, title: 'The audit log is unavailable' },
  shutting_down: { status: 503, title: 'The server is shutting down' },
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  reason: string;
  hint: string;
  request_id: string;
  instance?: string;
  field?: string;
  scope?: string;
  problems?: Array<{ field: string; message: string }>;
}

export function statusOf(reason: string): number {
  return STATUS[reason]?.status ?? 500;
}

export function buildProblem(
  request: FastifyRequest,
  reason: string,
  detail: string,
  hint: string,
  extra: Partial<Pick<Problem, 'field' | 'problems'>> = {},
): Problem {
  const known = STATUS[reason] ?? { status: 500, title: 'Error' };
  return {
    type: `urn:certmaster:problem:${reason}`,
    title: known.title,
    status: known.status,
    detail,
    reason,
    hint,
    request_id: request.id,
    instance: request.url.split('?')[0] ?? '/',
    ...(extra.field ? { field: extra.field } : {}),
    ...(extra.problems && extra.problems.length > 0 ? { problems: extra.problems } : {}),
  };
}

/**
 * A refusal a front end decides itself (a media type, an unknown EST label), thrown from a handler or
 * a body parser and answered as problem+json by the app's error handler.
 */
export class HttpProblem extends Error {
  constructor(
    readonly reason: string,
    detail: string,
    readonly hint: string,
    readonly field?: string,
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/** Schema of a problem body, for the OpenAPI document and fast serialisation. */
export const problemSchema = {
  type: 'object',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    reason: { type: 'string' },
    hint: { type: 'string' },
    request_id: { type: 'string' },
    instance: { type: 'string' },
    field: { type: 'string' },
    scope: { type: 'string' },
    problems: {
      type: 'array',
      items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
} as const;
