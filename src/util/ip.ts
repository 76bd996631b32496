/**
 * IP addresses, through ipaddr.js: the text certmaster writes (RFC 5952 §4 for IPv6, §5's dotted
 * form for IPv4-mapped addresses), the octets a certificate carries (RFC 5280 §4.2.1.6 iPAddress),
 * and the unit the login throttle counts.
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * The address in `text`, or null. node's isIP is the gate (it refuses the shorthand IPv4 forms such
 * as "10.1" that inet_aton accepts); a zone ("fe80::1%eth0") names an interface of one host and has
 * no place in a certificate or a policy, so it is refused here. The groups are read here rather than
 * by ipaddr.parse, which (2.5.0) reads an IPv4-compatible address such as "::192.0.2.1" (RFC 4291
 * §2.5.5.1) as IPv4-mapped, "::ffff:192.0.2.1", a different address.
 */
function parse(text: string): Address | null {
  if (text.includes('%')) return null;
  const kind = isIP(text);
  if (kind === 4) return ipaddr.IPv4.parse(text);
  if (kind !== 6) return null;
  const [head = '', tail] = text.split('::', 2);
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  // RFC 4291 §2.2: "::" stands for one or more groups of zeros; isIP has already checked the counts.
  const zeros = new Array<number>(8 - left.length - right.length).fill(0);
  return new ipaddr.IPv6([...left, ...zeros, ...right]);
}

/** Colon-separated hex groups, the last of which may be a dotted quad (RFC 4291 §2.2 form 3). */
function groupsOf(text: string): number[] {
  if (text === '') return [];
  return text.split(':').flatMap((group) => {
    if (!group.includes('.')) return [Number.parseInt(group, 16)];
    const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
    return [(a << 8) | b, (c << 8) | d];
  });
}

function format(address: Address): string {
  if (address.kind() === 'ipv4') return address.toString();
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return `::ffff:${v6.toIPv4Address().toString()}`;
  return v6.toRFC5952String();
}

/** The canonical text of an IP address, or null when `text` is not one. */
export function canonicalIp(text: string): string | null {
  const address = parse(text);
  return address === null ? null : format(address);
}

/** The 4 or 16 octets of a textual address; throws when it is not one. */
export function ipBytes(text: string): Buffer {
  const address = parse(text);
  if (address === null) throw new Error(`"${text}" is not an IP address`);
  return Buffer.from(address.toByteArray());
}

/** The canonical text of 4 or 16 octets. */
export function ipFromBytes(bytes: Buffer): string {
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new Error(`an IP address has 4 or 16 octets, not ${bytes.length}`);
  }
  return format(ipaddr.fromByteArray([...bytes]));
}

/**
 * The unit a client address is counted in: an IPv4 address as itself, an IPv4-mapped IPv6 address
 * (RFC 4291 §2.5.5.2, what a dual-stack socket reports) as its IPv4 address, any other IPv6 address
 * by its /64 (RFC 6177: the prefix one subscriber usually gets). Null when it is not an address.
 */
export function clientAddressUnit(text: string): string | null {
  const address = parse(text.split('%', 1)[0] ?? text);
  if (address === null) return null;
  if (address.kind() === 'ipv4') return address.toString();
  const v6 = address as ipaddr.IPv6;
  if (v6.isIPv4MappedAddress()) return v6.toIPv4Address().toString();
  return `${v6.parts
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}
