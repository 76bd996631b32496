/**
 * Which names a certificate may carry: host names (RFC 1123 §2.1) and IP addresses, checked and
 * put in canonical form before any policy looks at them. Every refusal is a sentence for a person.
 */
import { isIP } from 'node:net';
import { domainToUnicode } from 'node:url';
import { canonicalIp } from '../util/ip.js';
import { quoted } from '../util/terminal-text.js';

/** A name that was refused, and why, in words an operator or a requester can act on. */
export interface NameProblem {
  /** The name as given (cut short when very long), for display. */
  name: string;
  reason: string;
  /** Set when the name is a well-formed wildcard refused only because wildcards are switched off. */
  wildcardDisallowed?: true;
}

/** RFC 1035 §2.3.4: 255 octets on the wire, which is 253 characters in text without the trailing dot. */
export const MAX_DNS_NAME_LENGTH = 253;
const MAX_LABEL_LENGTH = 63;
/** The longest IPv6 text form with an embedded IPv4 address is 45 characters. */
const MAX_IP_TEXT_LENGTH = 45;
/** How many raw names are looked at before refusing outright, whatever de-duplication might do. */
const MAX_RAW_NAMES = 1000;
const DISPLAY_LIMIT = 80;

export function isNameProblem(value: string | NameProblem): value is NameProblem {
  return typeof value !== 'string';
}

/** Quotes a string for a message, so nothing unprintable or misleading reaches a terminal. */
export function quoteForDisplay(text: string, limit = DISPLAY_LIMIT): string {
  return quoted(text, limit);
}

function hasNonAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return true;
  return false;
}

function displayName(text: string): string {
  return text.length > DISPLAY_LIMIT ? `${text.slice(0, DISPLAY_LIMIT)}…` : text;
}

function problem(name: string, reason: string): NameProblem {
  return { name: displayName(name), reason };
}

const FORBIDDEN_SEPARATORS = ['/', '\\'];

/**
 * Checks a DNS host name and returns it lower-cased, or says what is wrong with it.
 * A wildcard is only the whole leftmost label ("*.example.com"), and only when allowed.
 */
export function validateDnsName(name: string, opts: { allowWildcard: boolean }): string | NameProblem {
  // Only a refusal shows the name; a valid name (nearly all of them) never needs it quoted.
  const q = () => quoteForDisplay(name);
  if (name.length === 0) return problem(name, 'an empty name is not a host name');
  if (name.length > MAX_DNS_NAME_LENGTH) {
    return problem(
      name,
      `${q()} is ${name.length} characters long; a host name may have at most ${MAX_DNS_NAME_LENGTH} (RFC 1035 §2.3.4)`,
    );
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    return problem(name, `${q()} contains a control character, which is not allowed in a host name`);
  }
  if (/\s/.test(name)) return problem(name, `${q()} contains a space, which is not allowed in a host name`);
  for (const sep of FORBIDDEN_SEPARATORS) {
    if (name.includes(sep)) {
      return problem(
        name,
        `${q()} contains ${JSON.stringify(sep)}, which is not allowed in a host name (RFC 1123)`,
      );
    }
  }
  if (isIP(name) !== 0) {
    return problem(name, `${q()} is an IP address, not a host name; ask for it as an IP address instead`);
  }
  if (name.endsWith('.')) {
    return problem(name, `${q()} ends with a dot; give the name without the trailing dot`);
  }
  if (name.startsWith('.') || name.includes('..')) {
    return problem(name, `${q()} has an empty label (two dots in a row, or a leading dot)`);
  }
  if (hasNonAscii(name)) {
    return problem(
      name,
      `${q()} contains characters outside ASCII; give an internationalized name in its A-label form (xn--...), RFC 5890`,
    );
  }
  const lower = name.toLowerCase();
  const labels = lower.split('.');
  if (lower.includes('*')) {
    const wildcardProblem = checkWildcard(name, labels, opts.allowWildcard);
    if (wildcardProblem) return wildcardProblem;
  }
  const bad = /[^a-z0-9.*-]/.exec(lower);
  if (bad) {
    return problem(
      name,
      `${q()} contains ${quoteForDisplay(bad[0])}, which is not allowed in a host name (RFC 1123)`,
    );
  }
  const first = labels[0] === '*' ? 1 : 0;
  for (let i = first; i < labels.length; i++) {
    const labelProblem = checkLabel(name, labels[i] ?? '');
    if (labelProblem) return labelProblem;
  }
  const tld = labels[labels.length - 1] ?? '';
  if (/^[0-9]+$/.test(tld)) {
    return problem(
      name,
      `${q()} ends in an all-numeric label; a top-level domain is never numeric (RFC 3696 §2)`,
    );
  }
  return lower;
}

function checkWildcard(name: string, labels: string[], allowed: boolean): NameProblem | null {
  const q = () => quoteForDisplay(name);
  const misplaced = labels[0] !== '*' || labels.slice(1).some((l) => l.includes('*'));
  if (misplaced) {
    return problem(
      name,
      `${q()} has "*" where it is not allowed; a wildcard may only be the whole leftmost label, as in "*.example.com"`,
    );
  }
  if (!allowed) {
    return {
      ...problem(name, `${q()} is a wildcard name, and this server does not issue wildcard names`),
      wildcardDisallowed: true,
    };
  }
  // A wildcard over a top-level domain covers names nobody here owns (CA/B Baseline Requirements §3.2.2.6).
  if (labels.length < 3) {
    return problem(
      name,
      `${q()} is too broad; a wildcard must be followed by at least two labels, as in "*.example.com"`,
    );
  }
  return null;
}

function checkLabel(name: string, label: string): NameProblem | null {
  const q = () => quoteForDisplay(name);
  if (label.length > MAX_LABEL_LENGTH) {
    return problem(
      name,
      `${q()} has a label of ${label.length} characters; a label may have at most ${MAX_LABEL_LENGTH} (RFC 1035 §2.3.4)`,
    );
  }
  if (label.startsWith('-') || label.endsWith('-')) {
    return problem(
      name,
      `${q()} has a label ${quoteForDisplay(label)} that starts or ends with a hyphen (RFC 1123)`,
    );
  }
  if (label.startsWith('xn--')) {
    // An A-label must decode to a U-label, which has at least one non-ASCII character (RFC 5890 §2.3.2.1).
    const unicode = domainToUnicode(label);
    if (unicode === '' || !hasNonAscii(unicode)) {
      return problem(
        name,
        `${q()} has a label ${quoteForDisplay(label)} that is not a valid A-label (RFC 5890)`,
      );
    }
  } else if (label.length >= 4 && label[2] === '-' && label[3] === '-') {
    return problem(
      name,
      `${q()} has a label ${quoteForDisplay(label)} with "--" in the third and fourth positions, which is reserved (RFC 5891 §4.2.3.1)`,
    );
  }
  return null;
}

/** An IP address in canonical text (dotted IPv4; IPv6 per RFC 5952), or null if `text` is not one. */
export function parseIpAddress(text: string): string | null {
  if (text.length > MAX_IP_TEXT_LENGTH) return null;
  return canonicalIp(text);
}

export interface RequestedNames {
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
  otherNameKinds: string[];
}

export interface NamePolicy {
  allowWildcards: boolean;
  maxNames: number;
  /**
   * A request without a CN takes its first DNS name as the CN. ACME clients (certbot, lego) send
   * CSRs whose subject is empty and whose names are all SANs (RFC 8555 §7.4 only asks for the
   * names), as Let's Encrypt accepts them.
   */
  commonNameFromFirstDnsName?: boolean;
}

export type NameValidation =
  | { ok: true; commonName: string; dnsNames: string[]; ipAddresses: string[] }
  | { ok: false; problems: NameProblem[] };

/**
 * Checks every requested name and returns the canonical set the certificate will carry. The common
 * name is also put among the subject alternative names, because clients match names against the
 * SANs only and ignore the CN when SANs are present (RFC 6125 §6.4.4).
 */
export function validateRequestedNames(input: RequestedNames, policy: NamePolicy): NameValidation {
  const rawCount = input.dnsNames.length + input.ipAddresses.length + input.otherNameKinds.length + 1;
  if (rawCount > MAX_RAW_NAMES) {
    return { ok: false, problems: [tooMany(rawCount, policy.maxNames)] };
  }
  const problems: NameProblem[] = [];
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const addDns = (name: string) => {
    if (!dnsNames.includes(name)) dnsNames.push(name);
  };
  const addIp = (address: string) => {
    if (!ipAddresses.includes(address)) ipAddresses.push(address);
  };

  let commonName = '';
  const requestedCn =
    input.commonName || (policy.commonNameFromFirstDnsName ? input.dnsNames[0] : undefined) || null;
  if (requestedCn === null) {
    problems.push({
      name: '',
      reason:
        'the request has no common name (CN); put the host name in the subject, as in CN=web1.example.com',
    });
  } else {
    const ip = parseIpAddress(requestedCn);
    if (ip !== null) {
      commonName = ip;
      addIp(ip);
    } else {
      const checked = validateDnsName(requestedCn, { allowWildcard: policy.allowWildcards });
      if (isNameProblem(checked)) {
        problems.push({
          name: checked.name,
          reason: `the common name: ${checked.reason}`,
          ...(checked.wildcardDisallowed ? { wildcardDisallowed: true } : {}),
        });
      } else {
        commonName = checked;
        addDns(checked);
      }
    }
  }
  for (const name of input.dnsNames) {
    const checked = validateDnsName(name, { allowWildcard: policy.allowWildcards });
    if (isNameProblem(checked)) problems.push(checked);
    else addDns(checked);
  }
  for (const address of input.ipAddresses) {
    const canonical = parseIpAddress(address);
    if (canonical === null) {
      problems.push(problem(address, `${quoteForDisplay(address)} is not an IPv4 or IPv6 address`));
    } else {
      addIp(canonical);
    }
  }
  for (const kind of new Set(input.otherNameKinds)) {
    problems.push(
      problem(
        kind,
        `the request asks for a ${quoteForDisplay(kind)} subject alternative name; only DNS names and IP addresses are issued`,
      ),
    );
  }
  const total = dnsNames.length + ipAddresses.length;
  if (total > policy.maxNames) problems.push(tooMany(total, policy.maxNames));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, commonName, dnsNames, ipAddresses };
}

function tooMany(count: number, max: number): NameProblem {
  return {
    name: '',
    reason: `the request asks for ${count} names (common name included); this server issues at most ${max} per certificate`,
  };
}
