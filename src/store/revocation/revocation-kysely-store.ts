/** The `RevocationStore` over Kysely, for both dialects. */
import type { Kysely } from 'kysely';
import type { RevocationStore, RevokedEntry, StoredCrl } from '../../ca/revocation-port.js';
import { fromMillis, type StoreDatabase, toMillis } from '../certificates/schema.js';
import type { WriteExecutor } from '../write-registry.js';

export class KyselyRevocationStore implements RevocationStore {
  readonly #db: Kysely<StoreDatabase>;
  readonly #writer: WriteExecutor;

  constructor(db: Kysely<StoreDatabase>, writer: WriteExecutor) {
    this.#db = db;
    this.#writer = writer;
  }

  async revocationMark(): Promise<string> {
    const row = await this.#db
      .selectFrom('certificates')
      .select((eb) => [eb.fn.countAll<number | string>().as('revoked'), eb.fn.max('revoked_at').as('latest')])
      .where('revoked_at', 'is not', null)
      .executeTakeFirst();
    return `${row?.revoked ?? 0}:${row?.latest ?? 0}`;
  }

  async listRevokedUnexpired(now: Date): Promise<RevokedEntry[]> {
    const rows = await this.#db
      .selectFrom('certificates')
      .select(['serial', 'revoked_at', 'revocation_reason'])
      .where('revoked_at', 'is not', null)
      .where('not_after', '>', toMillis(now))
      .orderBy('serial')
      .execute();
    return rows.map((row) => ({
      serial: row.serial,
      revokedAt: fromMillis(row.revoked_at ?? 0),
      reason: row.revocation_reason,
    }));
  }

  async latestCrl(): Promise<StoredCrl | null> {
    const row = await this.#db
      .selectFrom('crls')
      .selectAll()
      .orderBy('crl_number', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (row === undefined) return null;
    return {
      crlNumber: BigInt(row.crl_number),
      thisUpdate: fromMillis(row.this_update),
      nextUpdate: fromMillis(row.next_update),
      revocationMark: row.revocation_mark,
      der: Buffer.from(row.der_base64, 'base64'),
    };
  }

  publishCrl(crl: StoredCrl): Promise<boolean> {
    return this.#writer.execute('publishCrl', crl);
  }
}
