/**
 * Leaf profiles: the named kinds of certificate the CA issues, by extended key usage (RFC 5280
 * §4.2.1.12). `tls` (serverAuth and clientAuth) is what every request gets unless told otherwise.
 */
import type { LeafProfile } from './issuer.js';

export const LEAF_PROFILES = {
  tls: { serverAuth: true, clientAuth: true },
  server: { serverAuth: true, clientAuth: false },
  client: { serverAuth: false, clientAuth: true },
} as const satisfies Record<string, LeafProfile>;

export type LeafProfileName = keyof typeof LEAF_PROFILES;
export const DEFAULT_LEAF_PROFILE: LeafProfileName = 'tls';

export function isLeafProfileName(text: string): text is LeafProfileName {
  return Object.hasOwn(LEAF_PROFILES, text);
}

/** EST operation names (RFC 7030 §3.2.2), which a label must not shadow. */
const EST_OPERATIONS = new Set([
  'cacerts',
  'simpleenroll',
  'simplereenroll',
  'csrattrs',
  'serverkeygen',
  'fullcmc',
]);

/**
 * Parses `est.labels`: comma-separated LABEL=PROFILE pairs such as "routers=client,web=server", or ""
 * for none. Throws an Error saying what is wrong.
 */
export function parseLabelProfiles(text: string): Map<string, LeafProfileName> {
  const out = new Map<string, LeafProfileName>();
  if (text.trim() === '') return out;
  for (const pair of text.split(',')) {
    const [label = '', profile = '', ...rest] = pair.trim().split('=');
    if (rest.length > 0 || label === '' || profile === '')
      throw new Error(`"${pair.trim().slice(0, 80)}" is not LABEL=PROFILE`);
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(label) || label === '.' || label === '..')
      throw new Error(
        `label "${label.slice(0, 80)}" must be 1 to 64 letters, digits, dots, hyphens or underscores`,
      );
    if (EST_OPERATIONS.has(label)) throw new Error(`label "${label}" is an EST operation name`);
    if (!isLeafProfileName(profile))
      throw new Error(
        `profile "${profile.slice(0, 80)}" is not one of ${Object.keys(LEAF_PROFILES).join(', ')}`,
      );
    if (out.has(label)) throw new Error(`label "${label}" is given twice`);
    out.set(label, profile);
  }
  return out;
}
