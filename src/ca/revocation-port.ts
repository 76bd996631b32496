/**
 * The port through which the CA's revocation services (CRL and OCSP) reach storage: the revoked
 * certificates, a mark that changes whenever one more is revoked (whichever replica revoked it), and
 * the published CRLs. The CA owns this interface; src/store implements it.
 */

/** One published CRL, as every replica serves it. */
export interface StoredCrl {
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  /** The revocation high-water mark the CRL was built from. */
  revocationMark: string;
  der: Buffer;
}

export interface RevokedEntry {
  serial: string;
  revokedAt: Date;
  reason: string | null;
}

export interface RevocationStore {
  /**
   * Changes whenever a certificate is revoked: the count of revoked certificates (revocations are never
   * undone) and the latest revocation time.
   */
  revocationMark(): Promise<string>;
  /** Revoked certificates still unexpired at `now` (RFC 5280 §5: an expired one may leave the CRL). */
  listRevokedUnexpired(now: Date): Promise<RevokedEntry[]>;
  /** The CRL with the highest number, or null before the first one. */
  latestCrl(): Promise<StoredCrl | null>;
  /**
   * Publishes a CRL unless one with its number exists (another replica won the race): true when stored.
   * Keeps the few latest CRLs and forgets older ones.
   */
  publishCrl(crl: StoredCrl): Promise<boolean>;
}
