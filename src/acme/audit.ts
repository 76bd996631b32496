/** ACME decisions in the audit log: one record per account, order, challenge or refusal. */
import { type Actor, type AuditSink, auditEvent } from '../audit/event.js';
import type { Clock } from '../types.js';
import type { AcmeProblem } from './problem.js';

export type AcmeAuditKind = 'acme.account' | 'acme.order' | 'acme.challenge' | 'acme.refused';

export async function recordAcme(
  deps: { audit?: AuditSink; clock: Clock },
  actor: Actor,
  kind: AcmeAuditKind,
  target: string,
  details: Record<string, unknown>,
  problem?: AcmeProblem,
): Promise<void> {
  if (!deps.audit) return;
  await deps.audit.record(
    auditEvent(deps.clock.now(), actor, kind, 'decision', problem ? 'failure' : 'success', {
      target,
      details,
      ...(problem
        ? {
            reason: problem.reason,
            cause: problem.message,
            told: { status: problem.status, detail: problem.message, hint: problem.hint },
          }
        : {}),
    }),
  );
}
