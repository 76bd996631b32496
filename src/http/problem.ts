/**
 * Problem details (RFC 9457) with certmaster's extension members: reason, hint, request_id.
 * Status and title come from the refusal table (src/contract/refusals.ts).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { REFUSALS, type Reason } from '../contract/refusals.js';

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

export function buildProblem(
  request: FastifyRequest,
  reason: Reason,
  detail: string,
  hint: string,
  extra: Partial<Pick<Problem, 'field' | 'problems'>> = {},
): Problem {
  const known = REFUSALS[reason];
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

/** The reason of each problem sent through sendProblem, so the metrics hook need not parse the body back. */
const sentReasons = new WeakMap<FastifyReply, string>();

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  sentReasons.set(reply, problem.reason);
  return reply.code(problem.status).type('application/problem+json').send(problem);
}

/**
 * The problem+json media type with the charset Fastify adds to a serialised body; a body sent as
 * text must name it itself.
 */
const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

/**
 * Sends a problem body already written as JSON text (see authProblemText in auth-refusal.ts): the
 * same answer as sendProblem, without a serialiser's pass over the object.
 */
export function sendProblemText(
  reply: FastifyReply,
  status: number,
  reason: string,
  text: string,
): FastifyReply {
  sentReasons.set(reply, reason);
  return reply.code(status).type(PROBLEM_TYPE).send(text);
}

/** The reason of the problem this reply sent through sendProblem; undefined for any other answer. */
export function sentProblemReason(reply: FastifyReply): string | undefined {
  return sentReasons.get(reply);
}

/**
 * Schema of a problem body, for the OpenAPI document and fast serialisation: registered once with
 * `addSchema` (src/http/shared-schemas.ts), and named by routes through `problemSchema`, a `$ref`.
 */
export const problemBodySchema = {
  $id: 'Problem',
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

/** A route's error responses name the one shared problem schema. */
export const problemSchema = { $ref: 'Problem#' } as const;
