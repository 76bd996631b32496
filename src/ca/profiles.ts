/**
 * Leaf profiles: what each named kind of certificate the CA issues (src/domain/leaf-profiles.ts)
 * puts in its extended key usage (RFC 5280 §4.2.1.12).
 */
import type { LeafProfileName } from '../domain/leaf-profiles.js';
import type { LeafProfile } from './issuer.js';

export const LEAF_PROFILES = {
  tls: { serverAuth: true, clientAuth: true },
  server: { serverAuth: true, clientAuth: false },
  client: { serverAuth: false, clientAuth: true },
} as const satisfies Record<LeafProfileName, LeafProfile>;
