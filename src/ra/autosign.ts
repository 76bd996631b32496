/**
 * The autosign policy (`ra.autosign`): which requests are signed without an operator, as in Func's
 * certmaster and Puppet's autosign.conf. Anything it does not clearly allow waits for a person.
 */
import { isNameProblem, parseIpAddress, quoteForDisplay, validateDnsName } from './names.js';

/** "*.web.example.com" is stored as its parent, "web.example.com". */
export type AutosignPattern = { kind: 'exact'; name: string } | { kind: 'wildcard'; parent: string };

export type AutosignPolicy =
  | { mode: 'off' }
  | { mode: 'all' }
  | { mode: 'patterns'; patterns: AutosignPattern[] };

/** What `ra.autosign` accepts, in words for an operator. */
export const AUTOSIGN_ALLOWED = 'off, all, or comma-separated name patterns such as *.web.example.com';

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
    const id = pattern.kind === 'exact' ? pattern.name : `*.${pattern.parent}`;
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
  const checked = validateDnsName(text, { allowWildcard: true });
  if (isNameProblem(checked)) throw new AutosignPatternError(text, checked.reason);
  return checked.startsWith('*.')
    ? { kind: 'wildcard', parent: checked.slice(2) }
    : { kind: 'exact', name: checked };
}

/**
 * True only when every name is allowed: an exact pattern matches that name, "*.web.example.com"
 * matches exactly one more label ("a.web.example.com", not "a.b.web.example.com" nor
 * "web.example.com"). IP addresses and requested wildcard names match only `all`, since a
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
    return label.length > 0 && !label.includes('.');
  });
}
