/** Roles of accounts: what each may do is the scopes it grants, in src/auth/scopes.ts. */
export const ROLES = ['admin', 'operator', 'auditor', 'host'] as const;
export type Role = (typeof ROLES)[number];
