/**
 * The semantics of every write, written once for both dialects. Each operation runs inside a transaction
 * (or a savepoint of a group-commit batch) provided by a `WriteExecutor` (src/store/write-registry.ts,
 * which names them); the executor decides how transactions map onto commits, these functions decide
 * what the store means.
 */
import type { CompiledQuery, QueryResult } from 'kysely';
import type { CertificateRequest, IssuedCertificate } from '../../types.js';
import type { StoreQueries } from './queries.js';
import { certificateToRow, requestToRow, rowToCertificate, rowToRequest, toMillis } from './schema.js';
import {
  type CleanResult,
  SerialCollisionError,
  type SubmitOptions,
  type SubmitOutcome,
  SupersedeConflictError,
} from './store.js';

/** What an operation may do inside its transaction. */
export interface WriteContext {
  run<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>;
  /**
   * Serializes writers that decide on one common name until the transaction ends, so that
   * check-then-insert holds across connections. A no-op where the transaction already holds the
   * database's only write lock (SQLite's BEGIN IMMEDIATE).
   */
  lockCommonName(commonName: string): Promise<void>;
}

/**
 * Another transaction inserted a conflicting request (same CSR, or a pending one for the same name)
 * between our checks and our insert. The executor rolls back and runs the operation again, which then
 * sees the winner and answers `existing` or `conflict_pending`.
 */
export class ConcurrentRequestError extends Error {
  constructor(cause: unknown) {
    super('a conflicting request was stored concurrently', { cause });
    this.name = 'ConcurrentRequestError';
  }
}

/** What the caller sees when an operation gives up: for a lost race, the database's own error. */
export function finalError(reason: unknown): unknown {
  return reason instanceof ConcurrentRequestError ? reason.cause : reason;
}

/** Attempts per operation when racing other writers; a third loss means something else is wrong. */
export const MAX_ATTEMPTS = 3;

export const CESSATION_OF_OPERATION = 'cessationOfOperation';

/** Unique and primary-key violations, as better-sqlite3 and pg report them. */
export function isUniqueViolation(error: unknown): boolean {
  if (!(error instanceof Error) || !('code' in error)) {
    return false;
  }
  const { code } = error;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

async function first<R>(ctx: WriteContext, query: CompiledQuery<R>): Promise<R | undefined> {
  const result = await ctx.run(query);
  return result.rows[0];
}

async function insertCertificate(
  ctx: WriteContext,
  q: StoreQueries,
  certificate: IssuedCertificate,
): Promise<void> {
  try {
    await ctx.run(q.insertCertificate.bind(certificateToRow(certificate)));
  } catch (error) {
    // The serial is the table's only unique key.
    if (isUniqueViolation(error)) {
      throw new SerialCollisionError(certificate.serial);
    }
    throw error;
  }
}

function assertIssuedFor(request: CertificateRequest, certificate: IssuedCertificate): void {
  if (
    request.state !== 'issued' ||
    request.serial !== certificate.serial ||
    certificate.requestId !== request.id
  ) {
    throw new TypeError(
      'a request stored with its certificate must be issued, name its serial, and be named by the certificate',
    );
  }
}

export async function submitRequest(
  ctx: WriteContext,
  q: StoreQueries,
  request: CertificateRequest,
  certificate: IssuedCertificate | null,
  options: SubmitOptions,
): Promise<SubmitOutcome> {
  if (certificate !== null) {
    assertIssuedFor(request, certificate);
  }
  await ctx.lockCommonName(request.commonName);
  const same = await first(ctx, q.requestByCsrSha256.bind({ sha256: request.csrSha256 }));
  if (same !== undefined) {
    const issued =
      same.serial === null
        ? undefined
        : await first(ctx, q.certificateBySerial.bind({ serial: same.serial }));
    return {
      kind: 'existing',
      request: rowToRequest(same),
      certificate: issued === undefined ? null : rowToCertificate(issued),
    };
  }
  const pending = await first(ctx, q.pendingRequestByCommonName.bind({ commonName: request.commonName }));
  if (pending !== undefined) {
    return { kind: 'conflict_pending', existing: rowToRequest(pending) };
  }
  if (!options.allowDuplicateCertificates) {
    const valid = await first(
      ctx,
      q.validCertificateByCommonName.bind({ commonName: request.commonName, now: toMillis(options.now) }),
    );
    if (valid !== undefined) {
      return { kind: 'conflict_certificate', existing: rowToCertificate(valid) };
    }
  }
  try {
    await ctx.run(q.insertRequest.bind(requestToRow(request)));
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConcurrentRequestError(error);
    }
    throw error;
  }
  if (certificate !== null) {
    await insertCertificate(ctx, q, certificate);
    if (options.supersede) {
      const { serial, reason } = options.supersede;
      const revoked = await ctx.run(q.revokeCertificate.bind({ serial, reason, at: toMillis(options.now) }));
      // Thrown, not returned, so the transaction rolls back the request and certificate inserted above.
      if (revoked.rows.length === 0) throw new SupersedeConflictError(serial);
    }
  }
  return { kind: 'created', request, certificate };
}

export async function approveRequest(
  ctx: WriteContext,
  q: StoreQueries,
  id: string,
  certificate: IssuedCertificate,
  decidedBy: string,
  at: Date,
): Promise<CertificateRequest | null> {
  if (certificate.requestId !== id) {
    throw new TypeError(`the certificate for request ${id} must name that request`);
  }
  const updated = await first(
    ctx,
    q.markRequestIssued.bind({ id, serial: certificate.serial, decidedBy, at: toMillis(at) }),
  );
  if (updated === undefined) {
    return null;
  }
  await insertCertificate(ctx, q, certificate);
  return rowToRequest(updated);
}

export async function rejectRequest(
  ctx: WriteContext,
  q: StoreQueries,
  id: string,
  decidedBy: string,
  reason: string | null,
  at: Date,
): Promise<CertificateRequest | null> {
  const updated = await first(ctx, q.markRequestRejected.bind({ id, decidedBy, reason, at: toMillis(at) }));
  return updated === undefined ? null : rowToRequest(updated);
}

export async function revokeCertificate(
  ctx: WriteContext,
  q: StoreQueries,
  serial: string,
  reason: string,
  at: Date,
): Promise<IssuedCertificate | null> {
  const revoked = await first(ctx, q.revokeCertificate.bind({ serial, reason, at: toMillis(at) }));
  if (revoked !== undefined) {
    return rowToCertificate(revoked);
  }
  const existing = await first(ctx, q.certificateBySerial.bind({ serial }));
  return existing === undefined ? null : rowToCertificate(existing);
}

export async function cleanHost(
  ctx: WriteContext,
  q: StoreQueries,
  commonName: string,
  at: Date,
): Promise<CleanResult> {
  await ctx.lockCommonName(commonName);
  const revoked = await ctx.run(
    q.revokeCertificatesOfCommonName.bind({ commonName, reason: CESSATION_OF_OPERATION, at: toMillis(at) }),
  );
  const removed = await ctx.run(q.deleteRequestsOfCommonName.bind({ commonName }));
  return {
    requestsRemoved: Number(removed.numAffectedRows ?? 0n),
    certificatesRevoked: revoked.rows.map((row) => row.serial).sort(),
  };
}
