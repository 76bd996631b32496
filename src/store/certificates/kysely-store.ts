/**
 * The `Store` over Kysely, for both dialects. Reads go straight to the database; writes go through a
 * dialect-specific `WriteExecutor` (group commit for SQLite, a transaction per operation for
 * PostgreSQL) that runs the shared operations of write-operations.ts.
 */
import type { Kysely } from 'kysely';
import type { CertificateRequest, Clock, IssuedCertificate, RequestState } from '../../types.js';
import { encodeAuditEvent } from '../audit/audit-schema.js';
import type { CompiledReads } from '../engine/compiled-reads.js';
import { currentSchemaVersion } from '../migrations/index.js';
import type { WriteExecutor } from '../write-registry.js';
import { createQueries, type StoreQueries } from './queries.js';
import { rowToCertificate, rowToRequest, type StoreDatabase, toMillis } from './schema.js';
import type {
  CertificateFilter,
  CleanResult,
  PageKey,
  Store,
  SubmitOptions,
  SubmitOutcome,
} from './store.js';

/** Lists return at most this many records unless asked for fewer. */
export const DEFAULT_LIST_LIMIT = 1000;
/** No list returns more than this, whatever it is asked. */
export const MAX_LIST_LIMIT = 10_000;

function listLimit(limit: number | undefined): number {
  if (limit === undefined) {
    return DEFAULT_LIST_LIMIT;
  }
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`list limit must be a positive integer, got ${limit}`);
  }
  return Math.min(limit, MAX_LIST_LIMIT);
}

export class KyselyStore implements Store {
  readonly #db: Kysely<StoreDatabase>;
  readonly #writer: WriteExecutor;
  readonly #clock: Clock;
  readonly #q: StoreQueries;
  #closing: Promise<void> | null = null;
  readonly #reads: CompiledReads;

  /** `reads` runs the prepared reads: KyselyCertmasterStore chooses it for the whole store. */
  constructor(db: Kysely<StoreDatabase>, writer: WriteExecutor, clock: Clock, reads: CompiledReads) {
    this.#db = db;
    this.#reads = reads;
    this.#writer = writer;
    this.#clock = clock;
    this.#q = createQueries(db);
  }

  submitRequest(
    request: CertificateRequest,
    certificate: IssuedCertificate | null,
    options: SubmitOptions,
  ): Promise<SubmitOutcome> {
    const { records, ...rest } = options;
    return this.#writer.execute(
      'submitRequest',
      request,
      certificate,
      rest,
      (records ?? []).map(encodeAuditEvent),
    );
  }

  async getRequest(id: string): Promise<CertificateRequest | null> {
    const { rows } = await this.#reads.read(this.#q.requestById.bind({ id }));
    return rows[0] === undefined ? null : rowToRequest(rows[0]);
  }

  async listRequests(filter: {
    state?: RequestState;
    commonName?: string;
    limit?: number;
    after?: PageKey;
  }): Promise<CertificateRequest[]> {
    let query = this.#db.selectFrom('requests').selectAll();
    const after = filter.after;
    if (after !== undefined) {
      const at = toMillis(after.at);
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', after.key)])]),
      );
    }
    if (filter.state !== undefined) {
      query = query.where('state', '=', filter.state);
    }
    if (filter.commonName !== undefined) {
      query = query.where('common_name', '=', filter.commonName);
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(listLimit(filter.limit))
      .execute();
    return rows.map(rowToRequest);
  }

  async findRequestByCsrSha256(sha256: string): Promise<CertificateRequest | null> {
    const { rows } = await this.#reads.read(this.#q.requestByCsrSha256.bind({ sha256 }));
    return rows[0] === undefined ? null : rowToRequest(rows[0]);
  }

  approveRequest(
    id: string,
    certificate: IssuedCertificate,
    decidedBy: string,
    at: Date,
  ): Promise<CertificateRequest | null> {
    return this.#writer.execute('approveRequest', id, certificate, decidedBy, at);
  }

  rejectRequest(
    id: string,
    decidedBy: string,
    reason: string | null,
    at: Date,
  ): Promise<CertificateRequest | null> {
    return this.#writer.execute('rejectRequest', id, decidedBy, reason, at);
  }

  async getCertificate(serial: string): Promise<IssuedCertificate | null> {
    const { rows } = await this.#reads.read(this.#q.certificateBySerial.bind({ serial }));
    return rows[0] === undefined ? null : rowToCertificate(rows[0]);
  }

  async listCertificates(filter: {
    status: CertificateFilter;
    commonName?: string;
    limit?: number;
    after?: PageKey;
  }): Promise<IssuedCertificate[]> {
    let query = this.#db.selectFrom('certificates').selectAll();
    const after = filter.after;
    if (after !== undefined) {
      const at = toMillis(after.at);
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('serial', '<', after.key)])]),
      );
    }
    if (filter.status === 'valid') {
      query = query.where('revoked_at', 'is', null).where('not_after', '>', toMillis(this.#clock.now()));
    } else if (filter.status === 'revoked') {
      query = query.where('revoked_at', 'is not', null);
    }
    if (filter.commonName !== undefined) {
      query = query.where('common_name', '=', filter.commonName);
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('serial', 'desc')
      .limit(listLimit(filter.limit))
      .execute();
    return rows.map(rowToCertificate);
  }

  revokeCertificate(serial: string, reason: string, at: Date): Promise<IssuedCertificate | null> {
    return this.#writer.execute('revokeCertificate', serial, reason, at);
  }

  cleanHost(commonName: string, at: Date): Promise<CleanResult> {
    return this.#writer.execute('cleanHost', commonName, at);
  }

  async health(): Promise<{ ok: boolean; schemaVersion: number }> {
    try {
      return { ok: true, schemaVersion: await currentSchemaVersion(this.#db) };
    } catch {
      return { ok: false, schemaVersion: 0 };
    }
  }

  /** Lets every accepted write commit, then releases the database. Safe to call more than once. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#writer.close();
      } finally {
        await this.#db.destroy();
      }
    })();
    return this.#closing;
  }
}
