/**
 * The published CRLs' write, as a named operation of the write registry (src/store/write-registry.ts).
 * `db` only compiles queries; they run through `ctx`.
 */
import type { Kysely } from 'kysely';
import type { StoredCrl } from '../../ca/revocation-port.js';
import { type StoreDatabase, toMillis } from '../certificates/schema.js';
import type { WriteContext } from '../certificates/write-operations.js';

/** Older CRLs are kept a little while for operators to compare; only the latest is served. */
const CRLS_KEPT = 10;

/** False when another replica already stored a CRL with this number. */
export async function publishCrl(
  ctx: WriteContext,
  db: Kysely<StoreDatabase>,
  crl: StoredCrl,
): Promise<boolean> {
  const inserted = await ctx.run(
    db
      .insertInto('crls')
      .values({
        crl_number: Number(crl.crlNumber),
        this_update: toMillis(crl.thisUpdate),
        next_update: toMillis(crl.nextUpdate),
        revocation_mark: crl.revocationMark,
        der_base64: crl.der.toString('base64'),
      })
      // A conflict is another replica's CRL with this number: not an error (which would abort a
      // PostgreSQL transaction), just a lost race.
      .onConflict((oc) => oc.column('crl_number').doNothing())
      .compile(),
  );
  if (Number(inserted.numAffectedRows ?? 0n) === 0) return false;
  await ctx.run(
    db
      .deleteFrom('crls')
      .where('crl_number', '<=', Number(crl.crlNumber) - CRLS_KEPT)
      .compile(),
  );
  return true;
}
