/**
 * The RA's audit discipline: the action is recorded before it happens (if that record cannot be
 * written, nothing happens: fail closed, as Vault does) and its outcome after, both under the
 * caller's request id.
 *
 * An action whose one effect is a store write may have the store write its records in that same
 * transaction (`AuditedWrite`, with `recordsInWrite`): the record of the request and of its success
 * become durable together with what was done, in one commit instead of three, and still nothing
 * happens unless its record is durable. Such an action calls `beforeEffect` before any other effect
 * (a trigger, another write), which makes the request's record durable first, as for any action.
 */
import { AuditUnavailableError } from '../audit/audit-errors.js';
import type { RecordsWithinWrites } from '../audit/auditor.js';
import { type Actor, type AuditSink, auditEvent } from '../audit/event.js';
import type { StorableAuditEvent } from '../audit/storable-event.js';
import type { AuditLink } from '../audit/storage-port.js';
import type { AuditKind } from '../audit/types.js';
import type { Clock } from '../types.js';
import { PolicyFailure } from './failure.js';

/** Handed to an action so that its store write can carry its records. */
export interface AuditedWrite<T> {
  /**
   * Resolves once the record of the request is durable (writing it now if the store has not yet):
   * awaited before any effect other than the store write that carries the records.
   */
  beforeEffect(): Promise<void>;
  /**
   * The records the store is to write with the action's write, if it makes `result`: the request's
   * (unless already written) and the success's. Undefined when the audit log cannot have its records
   * written by the store: then they are written on their own, before and after.
   */
  prepare(result: T): StorableAuditEvent[] | undefined;
  /** The store wrote `records` at `links` with the action's own write. */
  written(records: readonly StorableAuditEvent[], links: readonly AuditLink[]): void;
  /** The store could not write the records, so stored nothing: the error to refuse with (503). */
  failed(error: unknown): Error;
}

export interface AuditedDeps {
  audit?: AuditSink | undefined;
  /** The same log, for records the store writes inside another write; absent, every record is its own. */
  recordsWithin?: RecordsWithinWrites | undefined;
  clock: Clock;
}

export interface AuditedOptions {
  /**
   * The action calls `beforeEffect` before every effect but its `AuditedWrite`, so its request's
   * record may wait for that write. Without it the record is durable before the action starts.
   */
  recordsInWrite?: boolean;
}

export async function audited<T>(
  deps: AuditedDeps,
  kind: AuditKind,
  actor: Actor,
  target: string | null,
  action: (write: AuditedWrite<T>) => Promise<T>,
  describe: (result: T) => { target?: string; details?: Record<string, unknown> },
  options: AuditedOptions = {},
): Promise<T> {
  const audit = deps.audit;
  const within = audit && options.recordsInWrite ? deps.recordsWithin : undefined;
  const request = auditEvent(deps.clock.now(), actor, kind, 'request', 'success', { target });
  /** Settles once the request's record is durable; null while it waits to go with the action's write. */
  let requestRecorded: Promise<unknown> | null = null;
  let recordedWithin = false;
  const recordRequest = (): Promise<unknown> => {
    requestRecorded ??= audit ? audit.record(request) : Promise.resolve();
    return requestRecorded;
  };
  const successEvent = (result: T) => {
    const facts = describe(result);
    return auditEvent(deps.clock.now(), actor, kind, 'response', 'success', {
      target: facts.target ?? target,
      details: facts.details ?? {},
    });
  };
  const write: AuditedWrite<T> = {
    beforeEffect: async () => {
      await recordRequest();
    },
    prepare: (result) => {
      if (!within) return undefined;
      const records = requestRecorded === null ? [within.prepareWithin(request)] : [];
      records.push(within.prepareWithin(successEvent(result)));
      return records;
    },
    written: (records, links) => {
      records.forEach((record, index) => {
        within?.writtenWithin(record, links[index] as AuditLink);
      });
      requestRecorded ??= Promise.resolve();
      recordedWithin = true;
    },
    failed: (error) =>
      within?.failedWithin(error) ?? new AuditUnavailableError('write_failed', { cause: error }),
  };
  if (!audit) return action(write);
  if (!within) await recordRequest();
  let result: T;
  try {
    result = await action(write);
  } catch (e) {
    if (e instanceof PolicyFailure) {
      // Submitted together, so a request refused before any effect costs one commit for both. The
      // refusal is built first: nothing may throw between submitting the two and awaiting both.
      const refusal = auditEvent(deps.clock.now(), actor, kind, 'response', 'failure', {
        target: target ?? e.subject ?? null,
        reason: e.reason,
        cause: e.internalCause,
        told: { status: e.status, detail: e.message, hint: e.hint },
        details: {
          ...(e.problems.length > 0 ? { problems: e.problems } : {}),
          ...(e.requestedNames ? { names: e.requestedNames } : {}),
          ...(e.facts ? { cause: e.facts } : {}),
        },
      });
      await Promise.all([recordRequest(), audit.record(refusal)]);
      e.recorded = true;
    } else if (requestRecorded === null) {
      // The attempt stays on record where the log can still take it; the action's own error is
      // what the caller hears.
      await recordRequest().catch(() => undefined);
    }
    throw e;
  }
  if (!recordedWithin) {
    const succeeded = successEvent(result);
    await Promise.all([recordRequest(), audit.record(succeeded)]);
  }
  return result;
}
