/** Which certificates a listing holds: the valid ones (neither revoked nor expired), the revoked ones, or all. */
export type CertificateFilter = 'valid' | 'revoked' | 'all';
