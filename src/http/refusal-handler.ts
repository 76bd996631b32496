/**
 * Every answer of 400 or more leaves through here with an audit record under its request id:
 * authentication refusals (401/403/429), RA refusals the RA did not record itself, schema
 * validation (400), unknown routes (404), oversized bodies (413), wrong media types (415) and
 * internal errors (500). When the record itself cannot be written the answer is 503
 * audit_unavailable, and the request id goes to the server log and the outage file instead.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditSink } from '../audit/event.js';
import type { OutageNotes } from '../audit/outage-log.js';
import type { AuditEvent } from '../audit/types.js';
import { AuthFailure } from '../auth/failure.js';
import type { RefusalCause } from '../contract/refusal-cause.js';
import { Refusal } from '../contract/refusal-error.js';
import type { Reason } from '../contract/refusals.js';
import { csrNamesForRecord } from '../ra/csr-input.js';
import { PolicyFailure } from '../ra/failure.js';
import type { Clock } from '../types.js';
import { auditUnavailable, boundedCause, routeTarget } from './audit-events.js';
import {
  type Challenger,
  refusalChallenges,
  refusalEvent,
  sendAuthFailure,
  toldHint,
} from './auth-refusal.js';
import { buildProblem, type Problem, sendProblem } from './problem.js';

export interface RefusalHandlerDeps {
  audit?: AuditSink;
  outage?: OutageNotes;
  clock: Clock;
  challenger: Challenger;
  bodyLimit: number;
  /**
   * The front door, run before a 404 is answered: a caller with bad credentials learns that they are
   * bad (a recorded 401), never which paths exist.
   */
  authenticate?: (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
}

/** The record of a refusal decided at the front door (no scheme, no RA): what was asked and told. */
export function frontDoorRefusalEvent(
  request: FastifyRequest,
  problem: Problem,
  cause: string | null,
  at: Date,
  facts?: RefusalCause,
): AuditEvent {
  const p = request.principal;
  const authenticated = p !== null && p !== undefined && !p.anonymous;
  return {
    at,
    requestId: request.id,
    kind: 'http.refused',
    phase: 'decision',
    outcome: 'failure',
    reason: problem.reason,
    principal: authenticated ? p.name : 'anonymous',
    claimedName: null,
    method: authenticated ? p.method : 'anonymous',
    credentialId: authenticated ? (p.token?.id ?? null) : null,
    clientAddress: request.ip,
    cause: cause === null ? null : boundedCause(cause),
    // A 404's detail quotes the path the caller sent: bounded, or its record would not fit.
    told: { status: problem.status, detail: boundedCause(problem.detail), hint: boundedCause(problem.hint) },
    target: routeTarget(request),
    details: { ...(problem.field ? { field: problem.field } : {}), ...(facts ? { cause: facts } : {}) },
  };
}

/** A CSR submission, whose refusal's record names what its CSR asked for (withCsrNames). */
function submitsCsr(request: FastifyRequest): boolean {
  return request.method === 'POST' && request.routeOptions.url === '/v1/requests';
}

/** How much of a refused submission's body is read for its CSR's names, and for how long at most. */
const REFUSED_BODY_LIMIT = 64 * 1024;
const REFUSED_BODY_WAIT_MS = 2000;

/**
 * A submission refused at the front door (a spent or expired enrollment token) still names what its
 * CSR asked for, as the RA's own refusals do, so `explain --host` finds it. Authentication runs before
 * the body is parsed, so the body is read here: bounded in size and time, the CSR only read (its
 * signature unchecked), never trusted. Anything that does not parse leaves the record as it was.
 */
async function withCsrNames(request: FastifyRequest, event: AuditEvent): Promise<AuditEvent> {
  let body = request.body;
  if (body === undefined) {
    const text = await readBoundedBody(request, REFUSED_BODY_LIMIT, REFUSED_BODY_WAIT_MS);
    try {
      body = text === null ? null : JSON.parse(text);
    } catch {
      body = null;
    }
  }
  const asked =
    body !== null && typeof body === 'object' ? csrNamesForRecord((body as { csr?: unknown }).csr) : null;
  return asked === null
    ? event
    : { ...event, details: { ...event.details, subject: asked.subject, names: asked.names } };
}

/** The raw body as text, or null when it is longer than `limit`, slower than `ms`, or already consumed. */
function readBoundedBody(request: FastifyRequest, limit: number, ms: number): Promise<string | null> {
  const raw = request.raw;
  if (raw.readableEnded || raw.destroyed) return Promise.resolve(null);
  const declared = Number(request.headers['content-length'] ?? 'NaN');
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(null);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (value: string | null): void => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onError);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) done(null);
      else chunks.push(chunk);
    };
    const onEnd = (): void => done(Buffer.concat(chunks).toString('utf8'));
    const onError = (): void => done(null);
    const timer = setTimeout(() => done(null), ms);
    raw.on('data', onData);
    raw.on('end', onEnd);
    raw.on('error', onError);
  });
}

export function installRefusalHandlers(app: FastifyInstance, deps: RefusalHandlerDeps): void {
  /** Fail closed: the 503 itself goes to the server log and the outage file under its request id. */
  const outage = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
    const at = deps.clock.now();
    const why = (error as { reason?: unknown }).reason;
    request.log.error(
      { reason: 'audit_unavailable', at: at.toISOString(), why: typeof why === 'string' ? why : 'unknown' },
      'the audit log could not be written; answered 503 audit_unavailable',
    );
    deps.outage?.note({
      requestId: request.id,
      at,
      target: routeTarget(request),
      why: typeof why === 'string' ? why : 'unknown',
    });
    return sendProblem(reply, auditUnavailable(request));
  };

  /** Records the refusal, then sends it; a refusal that cannot be recorded becomes the 503. */
  const refuse = async (
    request: FastifyRequest,
    reply: FastifyReply,
    problem: Problem,
    cause: string | null,
    facts?: RefusalCause,
  ): Promise<FastifyReply> => {
    if (deps.audit) {
      try {
        await deps.audit.record(frontDoorRefusalEvent(request, problem, cause, deps.clock.now(), facts));
      } catch (error) {
        return outage(request, reply, error);
      }
    }
    return sendProblem(reply, problem);
  };

  const problem = (request: FastifyRequest, reason: Reason, detail: string, hint: string): Problem =>
    buildProblem(request, reason, detail, hint);

  app.setErrorHandler(async (error, request, reply) => {
    if ((error as Error).name === 'AuditUnavailableError') return outage(request, reply, error);
    if (error instanceof AuthFailure) {
      const challenges = refusalChallenges(request, error, deps.challenger);
      const hint = toldHint(request, error, challenges);
      if (deps.audit) {
        try {
          const event = refusalEvent(request, error, deps.clock.now(), challenges, hint);
          // Only a CSR submission waits for its body; any other refusal is recorded without that turn.
          await deps.audit.record(submitsCsr(request) ? await withCsrNames(request, event) : event);
        } catch (e) {
          return outage(request, reply, e);
        }
      }
      return sendAuthFailure(request, reply, error, challenges, hint);
    }
    if (error instanceof PolicyFailure && error.status === 401) {
      // The RA lost the race for an enrollment token's last use: the token no longer
      // authenticates, so the answer is the same 401 with a Bearer challenge (RFC 9110 §15.5.2)
      // the authenticator gives. The RA has already written the audit record.
      const failure = new AuthFailure(error.reason, error.detail, error.hint, error.facts, {
        scheme: 'bearer',
      });
      return sendAuthFailure(request, reply, failure, refusalChallenges(request, failure, deps.challenger));
    }
    if (error instanceof PolicyFailure) {
      const answer = buildProblem(request, error.reason, error.message, error.hint, {
        field: error.field,
        problems: error.problems,
      });
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      // The RA records the refusals it decides; those raised before it (a route's own checks) are recorded here.
      return error.recorded
        ? sendProblem(reply, answer)
        : refuse(request, reply, answer, error.internalCause, error.facts);
    }
    if (error instanceof Refusal) {
      return refuse(
        request,
        reply,
        problem(request, error.reason, error.detail, error.hint),
        error.message,
        error.facts,
      );
    }
    const err = error as { code?: string; statusCode?: number; validation?: unknown; message: string };
    if (err.validation) {
      return refuse(
        request,
        reply,
        problem(
          request,
          'invalid_request',
          `the request body is not valid: ${err.message}`,
          'see /openapi.json for the expected shape',
        ),
        `schema validation: ${err.message}`,
      );
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return refuse(
        request,
        reply,
        problem(
          request,
          'body_too_large',
          `the body exceeds ${deps.bodyLimit} bytes`,
          'a CSR is a few kilobytes; send one PEM CSR',
        ),
        `body over ${deps.bodyLimit} bytes (content-length ${request.headers['content-length'] ?? 'unknown'})`,
      );
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return refuse(
        request,
        reply,
        problem(
          request,
          'unsupported_media_type',
          'this endpoint takes application/json',
          'send Content-Type: application/json',
        ),
        `content-type ${String(request.headers['content-type'] ?? 'none').slice(0, 100)}`,
      );
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return refuse(
        request,
        reply,
        problem(request, 'invalid_request', err.message, 'see /openapi.json for what this endpoint takes'),
        `${err.code ?? `HTTP ${err.statusCode}`}: ${err.message}`,
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    return refuse(
      request,
      reply,
      problem(
        request,
        'internal_error',
        'the server failed to handle this request',
        `report request id ${request.id} to the operator`,
      ),
      `unhandled ${(error as Error).name ?? 'error'} (the server log has it under this request id)`,
    );
  });

  app.setNotFoundHandler(
    { ...(deps.authenticate ? { preValidation: deps.authenticate } : {}) },
    (request, reply) =>
      refuse(
        request,
        reply,
        problem(
          request,
          'not_found',
          `nothing is served at ${request.method} ${request.url.split('?')[0]}`,
          'see /openapi.json for the endpoints',
        ),
        'no route matches',
      ),
  );
}
