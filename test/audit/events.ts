/** Builders for audit events: every call yields a fresh request id, so tests never share records. */
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '../../src/audit/types.js';

export const EVENT_TIME = new Date('2030-06-01T12:00:00.000Z');

export function auditEvent(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    at: EVENT_TIME,
    requestId: randomUUID(),
    kind: 'auth.attempt',
    phase: 'decision',
    outcome: 'failure',
    reason: 'credentials_invalid',
    principal: null,
    claimedName: 'alice',
    method: 'basic',
    credentialId: null,
    clientAddress: '198.51.100.7',
    cause: 'password mismatch',
    told: { status: 401, detail: 'the credentials are not valid', hint: 'check the user name and password' },
    target: 'GET /v1/whoami',
    details: { route: '/v1/whoami', names: ['a.example.com', 'b.example.com'] },
    ...overrides,
  };
}

export function secondsAfter(at: Date, seconds: number): Date {
  return new Date(at.getTime() + seconds * 1000);
}
