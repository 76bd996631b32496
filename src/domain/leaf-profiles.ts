/**
 * The names of the leaf profiles: the kinds of certificate the CA issues, by extended key usage
 * (RFC 5280 §4.2.1.12). `tls` (serverAuth and clientAuth) is what every request gets unless told
 * otherwise. What each name means to the CA is src/ca/profiles.ts; requests, settings and the store
 * need only the names, so they live here.
 */

export const LEAF_PROFILE_NAMES = ['tls', 'server', 'client'] as const;
export type LeafProfileName = (typeof LEAF_PROFILE_NAMES)[number];
export const DEFAULT_LEAF_PROFILE: LeafProfileName = 'tls';

const NAMES: ReadonlySet<string> = new Set<string>(LEAF_PROFILE_NAMES);

export function isLeafProfileName(text: string): text is LeafProfileName {
  return NAMES.has(text);
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
      throw new Error(`profile "${profile.slice(0, 80)}" is not one of ${LEAF_PROFILE_NAMES.join(', ')}`);
    if (out.has(label)) throw new Error(`label "${label}" is given twice`);
    out.set(label, profile);
  }
  return out;
}
