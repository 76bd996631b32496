/**
 * Appended events and the links the store answered, made into the records they now are: what the
 * audit log answers its callers, and what tools and tests that append directly get back.
 */
import { type StorableAuditEvent, storableAuditEvent } from './storable-event.js';
import type { AuditLink, AuditStore } from './storage-port.js';
import type { AuditEvent, AuditRecord } from './types.js';

/** The records the store's links make of the appended events; a store that lost one is an error. */
export function linkedRecords(
  events: readonly StorableAuditEvent[],
  links: readonly AuditLink[],
): AuditRecord[] {
  if (links.length !== events.length) {
    throw new Error(`the store returned ${links.length} links for ${events.length} events`);
  }
  // An object literal, not a spread: on the audit hot path a spread of the event's 15 fields cost
  // several µs per record (bench/auth-profile.ts --scenario bearer).
  return links.map(({ seq, prevHash, hash }, index) => {
    const event = (events[index] as StorableAuditEvent).event;
    return {
      at: event.at,
      requestId: event.requestId,
      kind: event.kind,
      phase: event.phase,
      outcome: event.outcome,
      reason: event.reason,
      principal: event.principal,
      claimedName: event.claimedName,
      method: event.method,
      credentialId: event.credentialId,
      clientAddress: event.clientAddress,
      cause: event.cause,
      told: event.told,
      target: event.target,
      details: event.details,
      seq,
      prevHash,
      hash,
    };
  });
}

/**
 * Appends events to a store directly, outside any AuditLog (tools and tests that build a log's
 * content themselves): checks each, then answers the stored records.
 */
export async function appendAuditEvents(
  store: AuditStore,
  events: readonly AuditEvent[],
): Promise<AuditRecord[]> {
  const storables = events.map(storableAuditEvent);
  return linkedRecords(storables, await store.appendAudit(storables));
}
