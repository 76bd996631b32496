/**
 * ACME errors (RFC 8555 §6.7): each carries the ACME error type, the HTTP status, and certmaster's
 * own `reason` and `hint`, so the one problem document serves ACME clients and operators alike.
 */
import type { AcmeErrorRecord, AcmeIdentifier } from '../domain/acme.js';

export const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

/** The RFC 8555 §6.7 error types certmaster sends, with their HTTP status. */
const STATUS_OF_TYPE: Record<string, number> = {
  accountDoesNotExist: 400,
  alreadyRevoked: 400,
  badCSR: 400,
  badNonce: 400,
  badPublicKey: 400,
  badRevocationReason: 400,
  badSignatureAlgorithm: 400,
  connection: 400,
  dns: 400,
  externalAccountRequired: 403,
  incorrectResponse: 403,
  invalidContact: 400,
  malformed: 400,
  orderNotReady: 403,
  rateLimited: 429,
  rejectedIdentifier: 400,
  serverInternal: 500,
  unauthorized: 403,
  unsupportedIdentifier: 400,
};

export interface AcmeSubproblem {
  type: string;
  detail: string;
  identifier: AcmeIdentifier;
}

export class AcmeProblem extends Error {
  readonly status: number;

  constructor(
    /** The ACME error type without its URN prefix, e.g. "badNonce". */
    readonly type: string,
    /** certmaster's reason code (docs/refusals.md). */
    readonly reason: string,
    detail: string,
    readonly hint: string,
    readonly extra: {
      subproblems?: AcmeSubproblem[];
      retryAfterSeconds?: number;
      status?: number;
      /** RFC 8555 §7.3.5: a keyChange to a key another account holds names that account. */
      conflictAccountId?: string;
    } = {},
  ) {
    super(detail);
    this.name = 'AcmeProblem';
    this.status = extra.status ?? STATUS_OF_TYPE[type] ?? 400;
  }

  /** The problem as stored on an order or a challenge. */
  toRecord(): AcmeErrorRecord {
    return {
      type: this.type,
      detail: this.message,
      reason: this.reason,
      ...(this.extra.subproblems ? { subproblems: this.extra.subproblems } : {}),
    };
  }
}

/** A stored error as the RFC 8555 problem object clients read inside orders and challenges. */
export function errorDocument(error: AcmeErrorRecord): Record<string, unknown> {
  return {
    type: ACME_ERROR_PREFIX + error.type,
    detail: error.detail,
    reason: error.reason,
    ...(error.subproblems
      ? {
          subproblems: error.subproblems.map((s) => ({
            type: ACME_ERROR_PREFIX + s.type,
            detail: s.detail,
            identifier: s.identifier,
          })),
        }
      : {}),
  };
}

export function malformed(detail: string, hint: string): AcmeProblem {
  return new AcmeProblem('malformed', 'acme_malformed', detail, hint);
}

export function unauthorized(detail: string, hint: string): AcmeProblem {
  return new AcmeProblem('unauthorized', 'acme_unauthorized', detail, hint);
}

export function notFound(what: string): AcmeProblem {
  return new AcmeProblem(
    'malformed',
    'not_found',
    `no ${what} is served at this URL`,
    'use the URLs the server returned',
    {
      status: 404,
    },
  );
}
