/**
 * Every write of the store, by name. A `WriteExecutor` runs a write given its name and arguments, not a
 * closure, so the SQLite writer can run it in its own thread (engine/sqlite-writer-thread.ts): names,
 * arguments and results cross threads as structured clones (plain data, Dates, Buffers, bigints).
 *
 * Each entry is one of the pure operations of the aggregates (certificates, identities, audit, ACME,
 * revocation), given the part of the `WriteKit` it needs.
 */
import type { Kysely } from 'kysely';
import type { CertificateRequest, IssuedCertificate } from '../types.js';
import * as acmeOperations from './acme/acme-write-operations.js';
import { createAuditQueries } from './audit/audit-queries.js';
import type { AuditTables, EncodedAuditEvent } from './audit/audit-schema.js';
import type { AuditWriteKit } from './audit/audit-write-operations.js';
import * as auditOperations from './audit/audit-write-operations.js';
import { createQueries, type StoreQueries } from './certificates/queries.js';
import type { StoreDatabase } from './certificates/schema.js';
import { SubmissionRecordError, type SubmitOptions, type SubmitOutcome } from './certificates/store.js';
import type { WriteContext } from './certificates/write-operations.js';
import * as certificateOperations from './certificates/write-operations.js';
import { type AuthQueries, createAuthQueries } from './identities/auth-queries.js';
import * as authOperations from './identities/auth-write-operations.js';
import * as revocationOperations from './revocation/revocation-write-operations.js';

export type StoreDialect = 'sqlite' | 'postgres';

/**
 * What the operations need besides their transaction: compiled queries, and a Kysely instance of the
 * right dialect to compile the few queries built per call. Built once per connection owner (the main
 * thread, or the writer thread); it never crosses threads itself.
 */
export interface WriteKit {
  /** Compiles queries only: they run through the operation's `WriteContext`. */
  db: Kysely<StoreDatabase>;
  store: StoreQueries;
  auth: AuthQueries;
  audit: AuditWriteKit;
}

/**
 * First key of the audit chain's advisory lock: not the namespace of the common-name locks
 * (postgres-writer.ts), so no host name can ever share the chain's lock.
 */
const CHAIN_LOCK_NAMESPACE = 0x636d61; // "cma"
const CHAIN_LOCK_KEY = 1;

export function createWriteKit(db: Kysely<StoreDatabase>, dialect: StoreDialect): WriteKit {
  const auditQueries = createAuditQueries(db.withTables<AuditTables>());
  return {
    db,
    store: createQueries(db),
    auth: createAuthQueries(db),
    audit: {
      q: auditQueries,
      // SQLite's group commit already holds the database's only write lock (BEGIN IMMEDIATE); a single
      // row insert is a prepared statement there, cheaper than a growing multi-row one.
      multiRowInsert: dialect === 'postgres',
      lockChain:
        dialect === 'postgres'
          ? async (ctx) => {
              await ctx.run(
                auditQueries.lockChain.bind({ namespace: CHAIN_LOCK_NAMESPACE, key: CHAIN_LOCK_KEY }),
              );
            }
          : async () => {},
    },
  };
}

/** Adapts an aggregate's operation `(ctx, part, ...args)` to the registry's `(ctx, kit, ...args)`. */
function on<K extends keyof WriteKit, A extends unknown[], R>(
  part: K,
  operation: (ctx: WriteContext, q: WriteKit[K], ...args: A) => Promise<R>,
): (ctx: WriteContext, kit: WriteKit, ...args: A) => Promise<R> {
  return (ctx, kit, ...args) => operation(ctx, kit[part], ...args);
}

/**
 * A submission and, when it creates the request, the audit records of it (SubmitOptions.records) in the
 * same transaction: if they cannot be written, nothing is stored.
 */
async function submitRequestRecorded(
  ctx: WriteContext,
  kit: WriteKit,
  request: CertificateRequest,
  certificate: IssuedCertificate | null,
  options: Omit<SubmitOptions, 'records'>,
  records: readonly EncodedAuditEvent[],
): Promise<SubmitOutcome> {
  const outcome = await certificateOperations.submitRequest(ctx, kit.store, request, certificate, options);
  if (outcome.kind !== 'created' || records.length === 0) return outcome;
  try {
    return { ...outcome, recorded: await auditOperations.appendAudit(ctx, kit.audit, records) };
  } catch (error) {
    // Thrown, so the transaction rolls back the request and certificate inserted above.
    throw new SubmissionRecordError(error);
  }
}

export const WRITE_OPERATIONS = {
  submitRequest: submitRequestRecorded,
  approveRequest: on('store', certificateOperations.approveRequest),
  rejectRequest: on('store', certificateOperations.rejectRequest),
  revokeCertificate: on('store', certificateOperations.revokeCertificate),
  cleanHost: on('store', certificateOperations.cleanHost),

  createUser: on('auth', authOperations.createUser),
  updateUser: on('auth', authOperations.updateUser),
  removeUser: on('auth', authOperations.removeUser),
  createToken: on('auth', authOperations.createToken),
  revokeToken: on('auth', authOperations.revokeToken),
  touchToken: on('auth', authOperations.touchToken),
  consumeEnrollmentUse: on('auth', authOperations.consumeEnrollmentUse),
  createRefreshToken: on('auth', authOperations.createRefreshToken),
  markRefreshTokenUsed: on('auth', authOperations.markRefreshTokenUsed),
  revokeRefreshFamily: on('auth', authOperations.revokeRefreshFamily),
  revokeRefreshTokensOfSubject: on('auth', authOperations.revokeRefreshTokensOfSubject),
  revokeAccessToken: on('auth', authOperations.revokeAccessToken),
  createClient: on('auth', authOperations.createClient),
  updateClient: on('auth', authOperations.updateClient),
  removeClient: on('auth', authOperations.removeClient),
  addSigningKey: on('auth', authOperations.addSigningKey),
  retireSigningKey: on('auth', authOperations.retireSigningKey),

  // Numbered and hashed where it is written, inside the transaction that reads the chain head.
  appendAudit: on('audit', auditOperations.appendAudit),
  addAuditCheckpoint: on('audit', auditOperations.addAuditCheckpoint),
  pruneAudit: on('audit', auditOperations.pruneAudit),

  createNonce: on('db', acmeOperations.createNonce),
  consumeNonce: on('db', acmeOperations.consumeNonce),
  createAccount: on('db', acmeOperations.createAccount),
  updateAccount: on('db', acmeOperations.updateAccount),
  createOrder: on('db', acmeOperations.createOrder),
  transitionOrder: on('db', acmeOperations.transitionOrder),
  saveAuthorization: on('db', acmeOperations.saveAuthorization),

  publishCrl: on('db', revocationOperations.publishCrl),
} as const;

export type WriteName = keyof typeof WRITE_OPERATIONS;

export type WriteArgs<N extends WriteName> = (typeof WRITE_OPERATIONS)[N] extends (
  ctx: WriteContext,
  kit: WriteKit,
  ...args: infer A
) => Promise<unknown>
  ? A
  : never;

export type WriteResult<N extends WriteName> = Awaited<ReturnType<(typeof WRITE_OPERATIONS)[N]>>;

/** Runs write operations by name, each atomically and durably: resolves only after its commit. */
export interface WriteExecutor {
  execute<N extends WriteName>(name: N, ...args: WriteArgs<N>): Promise<WriteResult<N>>;
  /** Finishes every accepted operation, then refuses new ones. */
  close(): Promise<void>;
}

/** An operation as the executors call it, its types checked at `execute`. */
export type UntypedWrite = (
  ctx: WriteContext,
  kit: WriteKit,
  ...args: readonly unknown[]
) => Promise<unknown>;

export function isWriteName(name: unknown): name is WriteName {
  return typeof name === 'string' && Object.hasOwn(WRITE_OPERATIONS, name);
}

/** The operation called `name`; throws for a name the registry does not hold. */
export function writeOperation(name: string): UntypedWrite {
  if (!isWriteName(name)) {
    throw new TypeError(`no write operation is called ${name}`);
  }
  return WRITE_OPERATIONS[name] as UntypedWrite;
}
