/** Scopes: what a route needs. Roles grant sets of them; tokens carry a subset of their owner's. */
import type { Role } from '../types.js';

export const SCOPES = [
  'requests:submit',
  'requests:read',
  'requests:approve',
  'certificates:read',
  'certificates:revoke',
  'hosts:clean',
  'users:manage',
  'tokens:manage',
  'audit:read',
] as const;
export type Scope = (typeof SCOPES)[number];

export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  admin: SCOPES,
  operator: [
    'requests:submit',
    'requests:read',
    'requests:approve',
    'certificates:read',
    'certificates:revoke',
    'hosts:clean',
  ],
  auditor: ['requests:read', 'certificates:read', 'audit:read'],
  host: ['requests:submit'],
};

export function isScope(text: string): text is Scope {
  return (SCOPES as readonly string[]).includes(text);
}

export function scopesOfRole(role: Role): Scope[] {
  return [...ROLE_SCOPES[role]];
}
