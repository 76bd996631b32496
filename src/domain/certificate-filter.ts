/** Which certificates a listing holds: the valid ones (neither revoked nor expired), the revoked ones, or all. */
export const CERTIFICATE_FILTERS = ['valid', 'revoked', 'all'] as const;
export type CertificateFilter = (typeof CERTIFICATE_FILTERS)[number];
