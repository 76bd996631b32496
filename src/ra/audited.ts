/**
 * The RA's audit discipline: the action is recorded before it happens (if that record cannot be
 * written, nothing happens: fail closed, as Vault does) and its outcome after, both under the
 * caller's request id. An action whose success is one store write may have the store write the
 * success record in that same transaction (`SuccessRecord`): one commit instead of two, and the
 * thing done and its record are durable together.
 */
import { AuditUnavailableError } from '../audit/audit-errors.js';
import type { RecordsWithinWrites } from '../audit/auditor.js';
import { type Actor, type AuditSink, auditEvent } from '../audit/event.js';
import type { StorableAuditEvent } from '../audit/storable-event.js';
import type { AuditLink } from '../audit/storage-port.js';
import type { AuditKind } from '../audit/types.js';
import type { Clock } from '../types.js';
import { PolicyFailure } from './failure.js';

/** Handed to an action so that its store write can carry the record of its success. */
export interface SuccessRecord<T> {
  /**
   * The record `result` would get, ready for the store; undefined when the audit log cannot have its
   * records written by the store (then `audited` writes it after the action, as for any other).
   */
  prepare(result: T): StorableAuditEvent | undefined;
  /** The store wrote `record` at `link` with the action's own write: `audited` writes none after it. */
  written(record: StorableAuditEvent, link: AuditLink): void;
  /** The store could not write the record, so stored nothing: the error to refuse with (503). */
  failed(error: unknown): Error;
}

export interface AuditedDeps {
  audit?: AuditSink | undefined;
  /** The same log, for records the store writes inside another write; absent, every record is its own. */
  recordsWithin?: RecordsWithinWrites | undefined;
  clock: Clock;
}

export async function audited<T>(
  deps: AuditedDeps,
  kind: AuditKind,
  actor: Actor,
  target: string | null,
  action: (success: SuccessRecord<T>) => Promise<T>,
  describe: (result: T) => { target?: string; details?: Record<string, unknown> },
): Promise<T> {
  const audit = deps.audit;
  const within = deps.recordsWithin;
  let recordedWithin = false;
  const successEvent = (result: T) => {
    const facts = describe(result);
    return auditEvent(deps.clock.now(), actor, kind, 'response', 'success', {
      target: facts.target ?? target,
      details: facts.details ?? {},
    });
  };
  const success: SuccessRecord<T> = {
    prepare: (result) => (audit && within ? within.prepareWithin(successEvent(result)) : undefined),
    written: (record, link) => {
      within?.writtenWithin(record, link);
      recordedWithin = true;
    },
    failed: (error) =>
      within?.failedWithin(error) ?? new AuditUnavailableError('write_failed', { cause: error }),
  };
  if (!audit) return action(success);
  await audit.record(auditEvent(deps.clock.now(), actor, kind, 'request', 'success', { target }));
  let result: T;
  try {
    result = await action(success);
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
  if (!recordedWithin) await audit.record(successEvent(result));
  return result;
}
