/** Building audit events from what a layer knows: who acted (the Actor), what, and how it ended. */
import type { AuditEvent, AuditKind, AuditOutcome, AuditPhase } from './types.js';

/** Who performed an action, as every layer below HTTP sees it. */
export interface Actor {
  /** Account, client, "enrollment:<token id>", "anonymous", or "local operator". */
  name: string;
  requestId: string;
  address: string | null;
  /** How it authenticated: basic, digest, access_token, api_token, enrollment_token, anonymous, local. */
  method: string;
  credentialId: string | null;
}

/** The one thing other layers need of the audit log. */
export interface AuditSink {
  /** Resolves once the event is durably recorded; rejects when it cannot be (then nothing may happen). */
  record(event: AuditEvent): Promise<unknown>;
}

export function auditEvent(
  at: Date,
  actor: Actor,
  kind: AuditKind,
  phase: AuditPhase,
  outcome: AuditOutcome,
  fields: Partial<Pick<AuditEvent, 'reason' | 'cause' | 'told' | 'target' | 'details' | 'claimedName'>> = {},
): AuditEvent {
  return {
    at,
    requestId: actor.requestId,
    kind,
    phase,
    outcome,
    reason: fields.reason ?? null,
    principal: actor.name,
    claimedName: fields.claimedName ?? null,
    method: actor.method,
    credentialId: actor.credentialId,
    clientAddress: actor.address,
    cause: fields.cause ?? null,
    told: fields.told ?? null,
    target: fields.target ?? null,
    details: fields.details ?? {},
  };
}
