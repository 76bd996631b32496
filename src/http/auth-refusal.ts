/**
 * Turns an AuthFailure into the refusal contract: status, WWW-Authenticate challenges,
 * Retry-After, and a problem+json body. The internal cause never leaves the server.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEvent } from '../audit/types.js';
import { inWords } from '../auth/authenticator.js';
import type { AuthFailure } from '../auth/failure.js';
import { REFUSALS } from '../contract/refusals.js';
import { boundedCause, boundedClaimedName, routeTarget } from './audit-events.js';
import type { Problem } from './problem.js';
import { sendProblem } from './problem.js';

export interface Challenger {
  /** One challenge per enabled scheme (RFC 9110 §11.6.1), shaped by the failure when there is one. */
  challenges(failure: AuthFailure, request: FastifyRequest): string[];
}

/**
 * The audit record of a refusal, written before the answer leaves: the precise cause for operators,
 * and what the caller was told. Never a secret (AuthFailure carries none).
 */
export function refusalEvent(
  request: FastifyRequest,
  failure: AuthFailure,
  at: Date,
  challenges: readonly string[] = [],
): AuditEvent {
  const { status } = REFUSALS[failure.reason];
  const p = request.principal;
  const authenticated = p !== null && p !== undefined && !p.anonymous;
  return {
    at,
    requestId: request.id,
    kind: status === 403 ? 'authz.refused' : 'auth.attempt',
    phase: 'decision',
    outcome: 'failure',
    reason: failure.reason,
    principal: authenticated ? p.name : null,
    claimedName: boundedClaimedName(failure.claimedName),
    method: authenticated ? p.method : (failure.scheme ?? null),
    credentialId: authenticated ? (p.token?.id ?? p.certificate?.serial ?? null) : null,
    clientAddress: request.ip,
    cause: boundedCause(failure.internalCause),
    told: {
      status,
      detail: failure.detail,
      // What the caller is told, filled in as sendAuthFailure fills it.
      hint: toldHint(request, failure, challenges),
    },
    // What the caller sent is bounded: a record too long to store would turn this 401 into a 503.
    target: routeTarget(request),
    details: {
      ...(failure.scope ? { scope: failure.scope } : {}),
      ...(failure.facts ? { cause: failure.facts } : {}),
    },
  };
}

/** The scheme names of challenges, in their order: "Bearer", "Digest", "Basic". */
function schemesOf(challenges: readonly string[]): string[] {
  const names = challenges.map((c) => c.split(' ', 1)[0] ?? '').filter((n) => n !== '');
  return [...new Set(names)];
}

/** A Host header fit to print in a hint; anything else keeps the placeholder. */
const PRINTABLE_HOST = /^[A-Za-z0-9.:[\]-]{1,255}$/;

/**
 * The hint with what only the HTTP layer knows: the server's own URL where the auth layer wrote
 * `--server URL`, and (a CLI user sees no headers) the schemes this server accepts, in words.
 */
export function toldHint(
  request: FastifyRequest,
  failure: AuthFailure,
  challenges: readonly string[],
): string {
  let hint = failure.hint;
  if (PRINTABLE_HOST.test(request.host)) {
    hint = hint.replaceAll('--server URL', `--server ${request.protocol}://${request.host}`);
  }
  if (failure.reason === 'credentials_missing') {
    const schemes = schemesOf(challenges);
    if (schemes.length > 0) hint = `${hint}; this server accepts ${inWords(schemes)}`;
  }
  return hint;
}

/**
 * The challenges a refusal's answer carries, built once per refusal: each Digest challenge mints a
 * nonce (an HMAC), and the audit record's hint and the answer must name the same schemes. A 401 must
 * carry a challenge (RFC 9110 §15.5.2); a 403 for a token's scope carries the Bearer challenge with
 * error="insufficient_scope" (RFC 6750 §3.1); other refusals carry none.
 */
export function refusalChallenges(
  request: FastifyRequest,
  failure: AuthFailure,
  challenger: Challenger,
): string[] {
  const { status } = REFUSALS[failure.reason];
  return status === 401 || failure.reason === 'insufficient_scope'
    ? challenger.challenges(failure, request)
    : [];
}

export function sendAuthFailure(
  request: FastifyRequest,
  reply: FastifyReply,
  failure: AuthFailure,
  challenges: readonly string[],
): FastifyReply {
  const { status, title } = REFUSALS[failure.reason];
  if (status === 401) reply.header('www-authenticate', challenges);
  if (failure.reason === 'insufficient_scope') {
    // Another scheme would not help a token that lacks a scope: only the Bearer challenge says so.
    reply.header(
      'www-authenticate',
      challenges.filter((c) => /^bearer /i.test(c)),
    );
  }
  if (failure.reason === 'too_many_attempts') {
    reply.header('retry-after', String(Math.max(1, Math.ceil(failure.retryAfterSeconds ?? 1))));
  }
  request.log.info(
    {
      reason: failure.reason,
      cause: failure.internalCause,
      claimed: failure.claimedName,
      scheme: failure.scheme,
    },
    'authentication refused',
  );
  const problem: Problem = {
    type: `urn:certmaster:problem:${failure.reason}`,
    title,
    status,
    detail: failure.detail,
    reason: failure.reason,
    hint: toldHint(request, failure, challenges),
    request_id: request.id,
    instance: request.url.split('?')[0] ?? '/',
    ...(failure.scope ? { scope: failure.scope } : {}),
  };
  return sendProblem(reply, problem);
}
