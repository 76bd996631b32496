/**
 * Schema version 4: published CRLs, so that every replica sharing the database serves one sequence of
 * CRL numbers (RFC 5280 §5.2.3: the number only grows), and an index that makes the revocation
 * high-water mark (how many certificates are revoked, and the latest time) one index read.
 */
import type { Kysely } from 'kysely';

export async function createRevocationTables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('crls')
    // The CRL number is the key: two replicas regenerating at once cannot both publish number N.
    .addColumn('crl_number', 'bigint', (c) => c.primaryKey())
    .addColumn('this_update', 'bigint', (c) => c.notNull())
    .addColumn('next_update', 'bigint', (c) => c.notNull())
    // The revocation high-water mark the CRL was built from: a replica that sees another mark rebuilds.
    .addColumn('revocation_mark', 'text', (c) => c.notNull())
    // Base64 of the DER: one column type that both dialects read back as a string.
    .addColumn('der_base64', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('certificates_revoked_at').on('certificates').column('revoked_at').execute();
}
