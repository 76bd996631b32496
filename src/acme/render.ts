/**
 * ACME resources as JSON (RFC 8555 §7.1), with their URLs under one base. The only place that knows
 * the URL layout of /acme.
 */

import type { AcmeAccount, AcmeAuthorization, AcmeChallenge, AcmeOrder } from '../domain/acme.js';
import { errorDocument } from './problem.js';

export class AcmeUrls {
  constructor(readonly base: string) {}
  directory = (): string => `${this.base}/acme/directory`;
  newNonce = (): string => `${this.base}/acme/new-nonce`;
  newAccount = (): string => `${this.base}/acme/new-account`;
  newOrder = (): string => `${this.base}/acme/new-order`;
  revokeCert = (): string => `${this.base}/acme/revoke-cert`;
  keyChange = (): string => `${this.base}/acme/key-change`;
  account = (id: string): string => `${this.base}/acme/account/${id}`;
  orders = (id: string): string => `${this.base}/acme/account/${id}/orders`;
  order = (id: string): string => `${this.base}/acme/order/${id}`;
  finalize = (id: string): string => `${this.base}/acme/order/${id}/finalize`;
  authorization = (id: string): string => `${this.base}/acme/authz/${id}`;
  challenge = (authzId: string, type: string): string => `${this.base}/acme/chall/${authzId}/${type}`;
  certificate = (serial: string): string => `${this.base}/acme/cert/${serial}`;

  /** The account id a `kid` names, or null when it is not one of our account URLs. */
  accountIdOf(kid: string): string | null {
    const prefix = `${this.base}/acme/account/`;
    if (!kid.startsWith(prefix)) return null;
    const id = kid.slice(prefix.length);
    return /^[A-Za-z0-9_-]{1,64}$/.test(id) ? id : null;
  }
}

export function directoryDocument(urls: AcmeUrls, requireEab: boolean): Record<string, unknown> {
  return {
    newNonce: urls.newNonce(),
    newAccount: urls.newAccount(),
    newOrder: urls.newOrder(),
    revokeCert: urls.revokeCert(),
    keyChange: urls.keyChange(),
    meta: { externalAccountRequired: requireEab, website: `${urls.base}/openapi.json` },
  };
}

export function accountDocument(urls: AcmeUrls, account: AcmeAccount): Record<string, unknown> {
  return { status: account.status, contact: account.contact, orders: urls.orders(account.id) };
}

export function orderDocument(urls: AcmeUrls, order: AcmeOrder): Record<string, unknown> {
  return {
    status: order.status,
    expires: order.expiresAt.toISOString(),
    identifiers: order.identifiers,
    authorizations: order.authorizationIds.map(urls.authorization),
    finalize: urls.finalize(order.id),
    ...(order.serial && order.status === 'valid' ? { certificate: urls.certificate(order.serial) } : {}),
    ...(order.error ? { error: errorDocument(order.error) } : {}),
  };
}

export function challengeDocument(
  urls: AcmeUrls,
  authz: AcmeAuthorization,
  c: AcmeChallenge,
): Record<string, unknown> {
  return {
    type: c.type,
    url: urls.challenge(authz.id, c.type),
    token: authz.token,
    status: c.status,
    ...(c.validated ? { validated: c.validated.toISOString() } : {}),
    ...(c.error ? { error: errorDocument(c.error) } : {}),
  };
}

export function authorizationDocument(urls: AcmeUrls, authz: AcmeAuthorization): Record<string, unknown> {
  return {
    status: authz.status,
    expires: authz.expiresAt.toISOString(),
    identifier: authz.identifier,
    ...(authz.wildcard ? { wildcard: true } : {}),
    challenges: authz.challenges.map((c) => challengeDocument(urls, authz, c)),
  };
}
