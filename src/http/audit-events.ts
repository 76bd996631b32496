/** Audit records the HTTP layer writes itself: successful authentications, and the 503 when the log is down. */
import type { FastifyRequest } from 'fastify';
import type { AuditEvent } from '../audit/types.js';
import type { OAuthDecision } from './oauth.js';
import { buildProblem, type Problem } from './problem.js';

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
    credentialId: p.token?.id ?? null,
    clientAddress: request.ip,
    cause: null,
    told: null,
    target: `${request.method} ${request.routeOptions.url ?? request.url.split('?')[0]}`,
    details: {},
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
    clientAddress: null,
    cause: d.internalCause ?? null,
    told: d.error ? { status: 0, detail: d.error, hint: '' } : null,
    target: d.clientId ?? null,
    details: {
      ...(d.familyId ? { family_id: d.familyId } : {}),
      ...(d.grantType ? { grant_type: d.grantType } : {}),
    },
  };
}
