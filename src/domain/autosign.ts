/**
 * The autosign policy (`ra.autosign`): which requests are signed without an operator, as in Func's
 * certmaster and Puppet's autosign.conf. Anything it does not clearly allow waits for a person.
 */
import { isNameProblem, parseIpAddress, quoteForDisplay, validateDnsName } from './names.js';

/**
 * "*.web.example.com" is stored as its parent, "web.example.com"; "web-*.example.com" (a single
 * "*" inside the leftmost label, as step-ca and Puppet users write for numbered hosts) as the
 * label's prefix and suffix around the star, and the parent.
 */
export type AutosignPattern =
  | { kind: 'exact'; name: string }
  | { kind: 'wildcard'; parent: string }
  | { kind: 'label'; prefix: string; suffix: string; parent: string };

export type AutosignPolicy =
  | { mode: 'off' }
  | { mode: 'all' }
  | { mode: 'patterns'; patterns: AutosignPattern[] };

/** What `ra.autosign` accepts, in words for an operator. */
export const AUTOSIGN_ALLOWED = 'off, all, or comma-separated name patterns such as *.web.example.com';

function patternId(p: AutosignPattern): string {
  if (p.kind === 'exact') return p.name;
  if (p.kind === 'wildcard') return `*.${p.parent}`;
  return `${p.prefix}*${p.suffix}.${p.parent}`;
}

const MAX_VALUE_LENGTH = 8192;
const MAX_PATTERNS = 256;

/** A bad `ra.autosign` value; `pattern` is the offending part, `message` says why. */
export class AutosignPatternError extends Error {
  readonly pattern: string;
  constructor(pattern: string, message: string) {
    super(message);
    this.name = 'AutosignPatternError';
    this.pattern = pattern;
  }
}

/** Parses `off`, `all`, or comma-separated patterns; throws AutosignPatternError on anything else. */
export function parseAutosign(value: string): AutosignPolicy {
  if (value.length > MAX_VALUE_LENGTH) {
    throw new AutosignPatternError(
      value.slice(0, 40),
      `the value is ${value.length} characters long; at most ${MAX_VALUE_LENGTH} are allowed`,
    );
  }
  const trimmed = value.trim();
  const keyword = trimmed.toLowerCase();
  if (keyword === 'off') return { mode: 'off' };
  if (keyword === 'all') return { mode: 'all' };
  if (trimmed === '') throw new AutosignPatternError(value, `the value is empty; use ${AUTOSIGN_ALLOWED}`);
  const parts = trimmed.split(',');
  if (parts.length > MAX_PATTERNS) {
    throw new AutosignPatternError(
      trimmed.slice(0, 40),
      `${parts.length} patterns given; at most ${MAX_PATTERNS} are allowed`,
    );
  }
  const patterns: AutosignPattern[] = [];
  const seen = new Set<string>();
  for (const part of parts) {
    const pattern = parsePattern(part.trim());
    const id = patternId(pattern);
    if (!seen.has(id)) {
      seen.add(id);
      patterns.push(pattern);
    }
  }
  return { mode: 'patterns', patterns };
}

function parsePattern(text: string): AutosignPattern {
  if (text === '') {
    throw new AutosignPatternError(
      text,
      'there is an empty pattern (two commas in a row, or a trailing comma)',
    );
  }
  const keyword = text.toLowerCase();
  if (keyword === 'off' || keyword === 'all') {
    throw new AutosignPatternError(text, `${quoteForDisplay(text)} cannot be combined with name patterns`);
  }
  const labelGlob = /^([a-z0-9-]*)\*([a-z0-9-]*)\.(.+)$/i.exec(text);
  if (labelGlob && (labelGlob[1] !== '' || labelGlob[2] !== '')) {
    const prefix = (labelGlob[1] ?? '').toLowerCase();
    const suffix = (labelGlob[2] ?? '').toLowerCase();
    // Check the pattern as the host name it stands for, with the star as one letter.
    const sample = validateDnsName(`${prefix}x${suffix}.${labelGlob[3] ?? ''}`, { allowWildcard: false });
    if (isNameProblem(sample))
      throw new AutosignPatternError(
        text,
        sample.reason.replace(`${prefix}x${suffix}`, `${prefix}*${suffix}`),
      );
    if ((labelGlob[3] ?? '').split('.').length < 2) {
      throw new AutosignPatternError(
        text,
        `${quoteForDisplay(text)} covers names directly under a top-level domain; name at least two labels after the star`,
      );
    }
    return { kind: 'label', prefix, suffix, parent: sample.slice(prefix.length + 1 + suffix.length + 1) };
  }
  const checked = validateDnsName(text, { allowWildcard: true });
  if (isNameProblem(checked)) throw new AutosignPatternError(text, checked.reason);
  return checked.startsWith('*.')
    ? { kind: 'wildcard', parent: checked.slice(2) }
    : { kind: 'exact', name: checked };
}

/**
 * True only when every name is allowed: an exact pattern matches that name, "*.web.example.com"
 * matches exactly one more label ("a.web.example.com", not "a.b.web.example.com" nor
 * "web.example.com"), and "web-*.example.com" one label that starts with "web-" and has more. IP addresses and requested wildcard names match only `all`, since a
 * pattern speaks for single hosts. No names at all is never allowed.
 */
export function autosignAllows(policy: AutosignPolicy, names: string[]): boolean {
  if (policy.mode === 'off' || names.length === 0) return false;
  if (policy.mode === 'all') return true;
  return names.every((name) => nameMatches(policy.patterns, name.toLowerCase()));
}

function nameMatches(patterns: AutosignPattern[], name: string): boolean {
  if (name.includes('*') || parseIpAddress(name) !== null) return false;
  return patterns.some((pattern) => {
    if (pattern.kind === 'exact') return name === pattern.name;
    const suffix = `.${pattern.parent}`;
    if (!name.endsWith(suffix)) return false;
    const label = name.slice(0, name.length - suffix.length);
    if (label.length === 0 || label.includes('.')) return false;
    if (pattern.kind === 'wildcard') return true;
    // The star stands for at least one character, so "web-*" does not match "web-".
    return (
      label.length > pattern.prefix.length + pattern.suffix.length &&
      label.startsWith(pattern.prefix) &&
      label.endsWith(pattern.suffix)
    );
  });
}
