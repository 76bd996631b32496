/**
 * Turns an AuthFailure into the refusal contract: status, WWW-Authenticate challenges,
 * Retry-After, and a problem+json body. The internal cause never leaves the server.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEvent } from '../audit/types.js';
import { inWords } from '../auth/authenticator.js';
import type { AuthFailure } from '../auth/failure.js';
import { REFUSALS, type Reason } from '../contract/refusals.js';
import { boundedCause, boundedClaimedName, routeTarget } from './audit-events.js';
import { type Problem, sendProblemText } from './problem.js';

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
  /** The hint the answer carries, when the caller has it already (toldHint). */
  hint: string = toldHint(request, failure, challenges),
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
      // What the caller is told: the hint sendAuthFailure sends.
      hint,
    },
    // What the caller sent is bounded: a record too long to store would turn this 401 into a 503.
    target: routeTarget(request),
    details: {
      ...(failure.scope ? { scope: failure.scope } : {}),
      ...(failure.facts ? { cause: failure.facts } : {}),
    },
  };
}

const SCHEME_WORDS = new Map<string, string>();

/**
 * "Bearer, Digest or Basic": the schemes of challenges ("Bearer realm=..." names Bearer), in their
 * order, once each, in words. Every 401 asks for it; the few lists a server offers are kept in words.
 */
function schemesInWords(challenges: readonly string[]): string {
  const names: string[] = [];
  for (const challenge of challenges) {
    const space = challenge.indexOf(' ');
    const name = space < 0 ? challenge : challenge.slice(0, space);
    if (name !== '' && !names.includes(name)) names.push(name);
  }
  if (names.length === 0) return '';
  const key = names.join(' ');
  let words = SCHEME_WORDS.get(key);
  if (words === undefined) {
    words = inWords(names);
    // Bounded all the same: the names come from our own challenges, a handful of lists per settings.
    if (SCHEME_WORDS.size >= 64) SCHEME_WORDS.clear();
    SCHEME_WORDS.set(key, words);
  }
  return words;
}

/** A Host header fit to print in a hint; anything else keeps the placeholder. */
const PRINTABLE_HOST = /^[A-Za-z0-9.:[\]-]{1,255}$/;
const SERVER_PLACEHOLDER = '--server URL';

/**
 * The hint with what only the HTTP layer knows: the server's own URL where the auth layer wrote
 * `--server URL`, and (a CLI user sees no headers) the schemes this server accepts, in words.
 * Computed once per refusal: the audit record and the answer carry the same one.
 */
export function toldHint(
  request: FastifyRequest,
  failure: AuthFailure,
  challenges: readonly string[],
): string {
  let hint = failure.hint;
  if (hint.includes(SERVER_PLACEHOLDER) && PRINTABLE_HOST.test(request.host)) {
    hint = hint.replaceAll(SERVER_PLACEHOLDER, `--server ${request.protocol}://${request.host}`);
  }
  if (failure.reason === 'credentials_missing') {
    const schemes = schemesInWords(challenges);
    if (schemes !== '') hint = `${hint}; this server accepts ${schemes}`;
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
  /** The hint the audit record names, when the caller has it already (toldHint). */
  hint: string = toldHint(request, failure, challenges),
): FastifyReply {
  const { status } = REFUSALS[failure.reason];
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
  const query = request.url.indexOf('?');
  const text = authProblemText(failure.reason, {
    detail: failure.detail,
    hint,
    request_id: request.id,
    instance: query < 0 ? request.url : request.url.slice(0, query),
    ...(failure.scope ? { scope: failure.scope } : {}),
  });
  return sendProblemText(reply, status, failure.reason, text);
}

/** What varies in an authentication refusal's problem body; the rest follows from its reason. */
type AuthProblemParts = Pick<Problem, 'detail' | 'hint' | 'request_id' | 'instance' | 'scope'>;

/** Per reason, the body's fixed members around `detail`: built once, from the refusal table. */
const PROBLEM_FRAMES = new Map<Reason, { head: string; afterDetail: string }>();

/**
 * The problem+json body of an authentication refusal as text, member for member what the Problem
 * schema's serialiser (and JSON.stringify) wrote from the object before: type, title, status, detail,
 * reason, hint, request_id, instance, then scope when there is one. Strings are quoted by
 * JSON.stringify, the members fixed per reason written once. test/http/refusal-answer-exact.test.ts
 * pins the bytes.
 */
export function authProblemText(reason: Reason, parts: AuthProblemParts): string {
  let frame = PROBLEM_FRAMES.get(reason);
  if (frame === undefined) {
    const { status, title } = REFUSALS[reason];
    frame = {
      head: `{"type":${JSON.stringify(`urn:certmaster:problem:${reason}`)},"title":${JSON.stringify(title)},"status":${status},"detail":`,
      afterDetail: `,"reason":${JSON.stringify(reason)},"hint":`,
    };
    PROBLEM_FRAMES.set(reason, frame);
  }
  const scope = parts.scope === undefined ? '' : `,"scope":${JSON.stringify(parts.scope)}`;
  const instance = parts.instance === undefined ? '' : `,"instance":${JSON.stringify(parts.instance)}`;
  return `${frame.head}${JSON.stringify(parts.detail)}${frame.afterDetail}${JSON.stringify(parts.hint)},"request_id":${JSON.stringify(parts.request_id)}${instance}${scope}}`;
}
