/**
 * ACME errors (RFC 8555 §6.7): each carries the ACME error type, the HTTP status, and certmaster's
 * own `reason` and `hint`, so the one problem document serves ACME clients and operators alike.
 */
import { Refusal } from '../contract/refusal-error.js';
import { REFUSALS, type Reason } from '../contract/refusals.js';
import type { AcmeErrorRecord, AcmeIdentifier } from '../domain/acme.js';

export const ACME_ERROR_PREFIX = 'urn:ietf:params:acme:error:';

export interface AcmeSubproblem {
  type: string;
  detail: string;
  identifier: AcmeIdentifier;
}

/**
 * An ACME refusal: a Refusal whose status comes from the refusal table like every other answer's,
 * with the RFC 8555 §6.7 error type beside it. RFC 8555 assigns a status to few types, and a type
 * says what kind of error it is, not which: `unauthorized` is a refused signature (403) as well as an
 * unavailable CA (503), and certmaster's reason tells them apart.
 */
export class AcmeProblem extends Refusal {
  constructor(
    /** The ACME error type without its URN prefix, e.g. "badNonce". */
    readonly type: string,
    reason: Reason,
    detail: string,
    hint: string,
    readonly extra: {
      subproblems?: AcmeSubproblem[];
      retryAfterSeconds?: number;
      /** Only where RFC 8555 names a status the table's does not say: 409 for a keyChange conflict (§7.3.5). */
      status?: number;
      /** RFC 8555 §7.3.5: a keyChange to a key another account holds names that account. */
      conflictAccountId?: string;
    } = {},
  ) {
    super(reason, detail, hint);
    this.name = 'AcmeProblem';
  }

  override get status(): number {
    return this.extra.status ?? REFUSALS[this.reason].status;
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
  );
}
