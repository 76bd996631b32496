/** Audit records the HTTP layer writes itself: successful authentications, and the 503 when the log is down. */
import type { FastifyRequest } from 'fastify';
import type { AuditEvent } from '../audit/types.js';
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
