/**
 * Names no request is signed for without an operator: the server's own names (a certificate for them
 * lets its holder impersonate this server to every client that trusts the CA), loopback names, and
 * the site's `ra.reserved_names`. Autosign, host accounts and enrollment tokens never sign them; the
 * request waits for an operator, who may sign it explicitly.
 */
import { BlockList, isIP } from 'node:net';
import { isNameProblem, parseIpAddress, quoteForDisplay, validateDnsName } from './names.js';

/** What `ra.reserved_names` accepts, in words for an operator. */
export const RESERVED_NAMES_ALLOWED =
  'comma-separated host names, "*.example.com" (every name under example.com) or IP addresses; empty for none';

const MAX_VALUE_LENGTH = 8192;

/** RFC 6761 §6.3: "localhost" and every name under it resolve to loopback. */
const LOOPBACK_NAME = 'localhost';

const LOOPBACK_ADDRESSES = (() => {
  const list = new BlockList();
  list.addSubnet('127.0.0.0', 8, 'ipv4'); // RFC 1122 §3.2.1.3 (g)
  list.addAddress('0.0.0.0', 'ipv4'); // "this host" (RFC 1122 §3.2.1.3 (a))
  list.addAddress('::1', 'ipv6'); // RFC 4291 §2.5.3
  list.addAddress('::', 'ipv6'); // the unspecified address
  list.addSubnet('::ffff:127.0.0.0', 104, 'ipv6'); // IPv4-mapped loopback (RFC 4291 §2.5.5.2)
  return list;
})();

export interface ReservedNames {
  /** Exact names and addresses, lower case. */
  exact: ReadonlySet<string>;
  /** "*.example.com" entries, stored as "example.com": every name below it is reserved. */
  parents: readonly string[];
}

export class ReservedNamesError extends Error {}

/** Parses `ra.reserved_names`; throws ReservedNamesError saying which entry is wrong. */
export function parseReservedNames(value: string): string[] {
  if (value.length > MAX_VALUE_LENGTH)
    throw new ReservedNamesError(`the value is ${value.length} characters long; at most ${MAX_VALUE_LENGTH}`);
  const entries: string[] = [];
  for (const raw of value.split(',')) {
    const text = raw.trim().toLowerCase();
    if (text === '') continue;
    const ip = parseIpAddress(text);
    if (ip !== null) {
      entries.push(ip);
      continue;
    }
    const checked = validateDnsName(text, { allowWildcard: true });
    if (isNameProblem(checked)) throw new ReservedNamesError(`${quoteForDisplay(text)}: ${checked.reason}`);
    entries.push(checked);
  }
  return entries;
}

/** The reserved set: the site's entries plus the names in the server's own certificate. */
export function reservedNames(entries: readonly string[], serverNames: readonly string[]): ReservedNames {
  const exact = new Set<string>();
  const parents: string[] = [];
  for (const entry of [...entries, ...serverNames]) {
    const name = entry.toLowerCase();
    if (name.startsWith('*.')) parents.push(name.slice(2));
    else exact.add(parseIpAddress(name) ?? name);
  }
  return { exact, parents };
}

/** The requested names that are reserved, in request order; empty when none is. */
export function reservedAmong(reserved: ReservedNames, names: readonly string[]): string[] {
  return names.filter((n) => isReserved(reserved, n.toLowerCase()));
}

function isReserved(reserved: ReservedNames, name: string): boolean {
  const family = isIP(name);
  if (family !== 0) {
    if (LOOPBACK_ADDRESSES.check(name, family === 4 ? 'ipv4' : 'ipv6')) return true;
    return reserved.exact.has(parseIpAddress(name) ?? name);
  }
  // A requested wildcard "*.example.com" is checked as the names it covers: its parent's children.
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  const under = (parent: string): boolean => bare === parent || bare.endsWith(`.${parent}`);
  if (under(LOOPBACK_NAME)) return true;
  if (reserved.exact.has(name)) return true;
  if (name.startsWith('*.') && [...reserved.exact].some((e) => e.endsWith(`.${bare}`))) return true;
  return reserved.parents.some((p) => bare.endsWith(`.${p}`) || (name.startsWith('*.') && under(p)));
}
