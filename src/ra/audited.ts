/**
 * The RA's audit discipline: the action is recorded before it happens (if that record cannot be
 * written, nothing happens: fail closed, as Vault does) and its outcome after, both under the
 * caller's request id.
 */
import { type Actor, type AuditSink, auditEvent } from '../audit/event.js';
import type { AuditKind } from '../audit/types.js';
import type { Clock } from '../types.js';
import { PolicyFailure } from './failure.js';

export async function audited<T>(
  deps: { audit?: AuditSink | undefined; clock: Clock },
  kind: AuditKind,
  actor: Actor,
  target: string | null,
  action: () => Promise<T>,
  describe: (result: T) => { target?: string; details?: Record<string, unknown> },
): Promise<T> {
  const audit = deps.audit;
  if (!audit) return action();
  await audit.record(auditEvent(deps.clock.now(), actor, kind, 'request', 'success', { target }));
  let result: T;
  try {
    result = await action();
  } catch (e) {
    if (e instanceof PolicyFailure) {
      await audit.record(
        auditEvent(deps.clock.now(), actor, kind, 'response', 'failure', {
          target: target ?? e.subject ?? null,
          reason: e.reason,
          cause: e.internalCause,
          told: { status: e.status, detail: e.message, hint: e.hint },
          details: {
            ...(e.problems.length > 0 ? { problems: e.problems } : {}),
            ...(e.requestedNames ? { names: e.requestedNames } : {}),
            ...(e.facts ? { cause: e.facts } : {}),
          },
        }),
      );
      e.recorded = true;
    }
    throw e;
  }
  const facts = describe(result);
  await audit.record(
    auditEvent(deps.clock.now(), actor, kind, 'response', 'success', {
      target: facts.target ?? target,
      details: facts.details ?? {},
    }),
  );
  return result;
}
