/**
 * A new order and its authorizations (RFC 8555 §7.4), one authorization per identifier, each with the
 * challenges that can prove it, all pending until the client answers one.
 */
import { randomBytes } from 'node:crypto';
import type { AcmeAccount, AcmeAuthorization, AcmeIdentifier, AcmeOrder } from '../domain/acme.js';

/** RFC 8555 §7.1.3: orders and authorizations expire; a week is ample for a client to finish. */
const ORDER_LIFETIME_MS = 7 * 24 * 3600 * 1000;

export function newId(): string {
  return randomBytes(16).toString('base64url');
}

export function newOrderRecords(
  account: AcmeAccount,
  identifiers: AcmeIdentifier[],
  now: Date,
): { order: AcmeOrder; authorizations: AcmeAuthorization[] } {
  const expiresAt = new Date(now.getTime() + ORDER_LIFETIME_MS);
  const orderId = newId();
  const authorizations: AcmeAuthorization[] = identifiers.map((identifier) => {
    const wildcard = identifier.value.startsWith('*.');
    return {
      id: newId(),
      orderId,
      accountId: account.id,
      identifier: { type: 'dns', value: wildcard ? identifier.value.slice(2) : identifier.value },
      wildcard,
      status: 'pending',
      token: randomBytes(32).toString('base64url'),
      // RFC 8555 §8.3: http-01 cannot prove control of a wildcard; only dns-01 is offered for one.
      challenges: (wildcard ? (['dns-01'] as const) : (['http-01', 'dns-01'] as const)).map((type) => ({
        type,
        status: 'pending' as const,
        validated: null,
        error: null,
        seen: null,
      })),
      expiresAt,
      updatedAt: now,
    };
  });
  const order: AcmeOrder = {
    id: orderId,
    accountId: account.id,
    status: 'pending',
    identifiers,
    authorizationIds: authorizations.map((a) => a.id),
    expiresAt,
    error: null,
    requestId: null,
    serial: null,
    createdAt: now,
    updatedAt: now,
  };
  return { order, authorizations };
}
