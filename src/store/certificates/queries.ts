/**
 * Every fixed-shape query of the store, compiled once per database (the SQL differs by dialect).
 * Literal values that partial indexes depend on are written with `sql.lit`, so SQLite's planner can
 * match them against the index's WHERE clause (it cannot with a bound parameter).
 */
import { type Kysely, sql } from 'kysely';
import { prepareQuery } from '../engine/prepared-query.js';
import type { CertificateInsertRow, RequestInsertRow, StoreDatabase } from './schema.js';

export function createQueries(db: Kysely<StoreDatabase>) {
  return {
    requestById: prepareQuery((p: { id: string }) =>
      db.selectFrom('requests').selectAll().where('id', '=', p.id),
    ),

    requestByCsrSha256: prepareQuery((p: { sha256: string }) =>
      db.selectFrom('requests').selectAll().where('csr_sha256', '=', p.sha256),
    ),

    pendingRequestByCommonName: prepareQuery((p: { commonName: string }) =>
      db
        .selectFrom('requests')
        .selectAll()
        .where('common_name', '=', p.commonName)
        .where('state', '=', sql.lit('pending')),
    ),

    /** A certificate for the name that is neither revoked nor expired at `now`. */
    validCertificateByCommonName: prepareQuery((p: { commonName: string; now: number }) =>
      db
        .selectFrom('certificates')
        .selectAll()
        .where('common_name', '=', p.commonName)
        .where('revoked_at', 'is', null)
        .where('not_after', '>', p.now)
        // No ORDER BY: any valid certificate is a conflict, and ordering by not_after would invite the
        // planner to walk the not_after index across every valid certificate of the fleet. A literal
        // limit: SQLite runs this several times faster than with a bound one.
        .limit(sql.lit(1)),
    ),

    certificateBySerial: prepareQuery((p: { serial: string }) =>
      db.selectFrom('certificates').selectAll().where('serial', '=', p.serial),
    ),

    insertRequest: prepareQuery((p: RequestInsertRow) =>
      db.insertInto('requests').values({
        id: p.id,
        common_name: p.common_name,
        dns_names: p.dns_names,
        ip_addresses: p.ip_addresses,
        csr_pem: p.csr_pem,
        csr_sha256: p.csr_sha256,
        key_description: p.key_description,
        state: p.state,
        requester: p.requester,
        client_address: p.client_address,
        created_at: p.created_at,
        updated_at: p.updated_at,
        decided_by: p.decided_by,
        rejection_reason: p.rejection_reason,
        serial: p.serial,
        profile: p.profile,
      }),
    ),

    insertCertificate: prepareQuery((p: CertificateInsertRow) =>
      db.insertInto('certificates').values({
        serial: p.serial,
        request_id: p.request_id,
        common_name: p.common_name,
        dns_names: p.dns_names,
        ip_addresses: p.ip_addresses,
        not_before: p.not_before,
        not_after: p.not_after,
        certificate_pem: p.certificate_pem,
        created_at: p.created_at,
        revoked_at: p.revoked_at,
        revocation_reason: p.revocation_reason,
        renewed_from: p.renewed_from,
      }),
    ),

    markRequestIssued: prepareQuery((p: { id: string; serial: string; decidedBy: string; at: number }) =>
      db
        .updateTable('requests')
        .set({ state: sql.lit('issued'), serial: p.serial, decided_by: p.decidedBy, updated_at: p.at })
        .where('id', '=', p.id)
        .where('state', '=', sql.lit('pending'))
        .returningAll(),
    ),

    markRequestRejected: prepareQuery(
      (p: { id: string; decidedBy: string; reason: string | null; at: number }) =>
        db
          .updateTable('requests')
          .set({
            state: sql.lit('rejected'),
            decided_by: p.decidedBy,
            rejection_reason: p.reason,
            updated_at: p.at,
          })
          .where('id', '=', p.id)
          .where('state', '=', sql.lit('pending'))
          .returningAll(),
    ),

    /** Touches only an unrevoked certificate, so the first revocation's time and reason stand. */
    revokeCertificate: prepareQuery((p: { serial: string; reason: string; at: number }) =>
      db
        .updateTable('certificates')
        .set({ revoked_at: p.at, revocation_reason: p.reason })
        .where('serial', '=', p.serial)
        .where('revoked_at', 'is', null)
        .returningAll(),
    ),

    revokeCertificatesOfCommonName: prepareQuery((p: { commonName: string; reason: string; at: number }) =>
      db
        .updateTable('certificates')
        .set({ revoked_at: p.at, revocation_reason: p.reason })
        .where('common_name', '=', p.commonName)
        .where('revoked_at', 'is', null)
        .returning('serial'),
    ),

    deleteRequestsOfCommonName: prepareQuery((p: { commonName: string }) =>
      db.deleteFrom('requests').where('common_name', '=', p.commonName),
    ),
  };
}

export type StoreQueries = ReturnType<typeof createQueries>;
