/** Audit records the HTTP layer writes itself: successful authentications, and the 503 when the log is down. */
import type { FastifyRequest } from 'fastify';
import type { AuditEvent } from '../audit/types.js';
import type { OAuthDecision } from './oauth.js';
import { buildProblem, type Problem } from './problem.js';

/**
 * Longest route target recorded. An unmatched URL is whatever the caller sent (up to the 16 KiB header
 * bound), beyond what an audit field stores (4096): unbounded, its record would be refused and the
 * request answered 503 (a refusal) or 500 (a sign-in) as if the log were down.
 */
const MAX_TARGET_CHARS = 300;
/** Account names have at most 64 characters; readers of GET /v1/audit accept claimed names of 512. */
const MAX_CLAIMED_NAME_CHARS = 256;
/** Causes are short by construction, but some quote what the caller sent (an unknown user name). */
const MAX_CAUSE_CHARS = 1024;

/** `text` cut to `max` characters, marked with "…" when cut, never splitting a surrogate pair. */
export function bounded(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max - 1).replace(/[\uD800-\uDBFF]$/, '')}…`;
}

/** The route asked for: its pattern when one matched, else the path the caller sent, bounded. */
export function routeTarget(request: FastifyRequest): string {
  return bounded(
    `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    MAX_TARGET_CHARS,
  );
}

export function boundedClaimedName(name: string | undefined): string | null {
  return name === undefined ? null : bounded(name, MAX_CLAIMED_NAME_CHARS);
}

export function boundedCause(cause: string): string {
  return bounded(cause, MAX_CAUSE_CHARS);
}

export function authenticatedEvent(request: FastifyRequest, at: Date): AuditEvent {
  const p = request.principal;
  return {
    at,
    requestId: request.id,
    kind: 'auth.attempt',
    phase: 'decision',
    outcome: 'success',
    reason: null,
    principal: p.name,
    claimedName: null,
    method: p.method,
    credentialId: p.token?.id ?? p.certificate?.serial ?? null,
    clientAddress: request.ip,
    cause: null,
    told: null,
    target: routeTarget(request),
    details: p.certificate ? { serial: p.certificate.serial } : {},
  };
}

/** Fail closed (as Vault does when every audit device fails): nothing was done. */
export function auditUnavailable(request: FastifyRequest): Problem {
  return buildProblem(
    request,
    'audit_unavailable',
    'the audit log cannot be written, so nothing was done',
    'try again shortly; an operator should check the store (`certmaster doctor`)',
  );
}

/** An OAuth endpoint's grant or refusal, with the precise cause the client was not told. */
export function oauthDecisionEvent(d: OAuthDecision, at: Date): AuditEvent {
  return {
    at,
    requestId: d.requestId,
    kind:
      d.endpoint === 'token' ? 'oauth.grant' : d.endpoint === 'revoke' ? 'oauth.revoke' : 'oauth.introspect',
    phase: 'decision',
    outcome: d.outcome === 'granted' ? 'success' : 'failure',
    reason: d.reason ?? d.error ?? null,
    principal: d.outcome === 'granted' ? (d.subject ?? d.clientId ?? null) : null,
    claimedName: d.outcome === 'granted' ? null : (d.subject ?? d.clientId ?? null),
    method: d.grantType ? `oauth:${d.grantType}` : 'oauth',
    credentialId: d.tokenId ?? null,
    clientAddress: d.clientAddress ?? null,
    cause: d.internalCause ?? null,
    told: d.error ? { status: d.status ?? 400, detail: d.description ?? d.error, hint: d.hint ?? '' } : null,
    target: d.clientId ?? null,
    details: {
      ...(d.familyId ? { family_id: d.familyId } : {}),
      ...(d.grantType ? { grant_type: d.grantType } : {}),
      ...(d.facts ? { cause: d.facts } : {}),
    },
  };
}
