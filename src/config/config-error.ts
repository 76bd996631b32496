/** Configuration errors, with one message an operator can act on. */
import { quoteForDisplay } from '../domain/names.js';

export type ConfigErrorCode = 'unknown_key' | 'invalid_value' | 'syntax' | 'unreadable';

/** A configuration problem, with one message an operator can act on. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly key: string | undefined;
  /** The offending value (a store URL with its password hidden). */
  readonly value: unknown;
  readonly allowed: string | undefined;
  readonly file: string | undefined;
  /** What is wrong with the value, without key or file: "must be between 1 and 100". */
  readonly detail: string | undefined;

  constructor(
    code: ConfigErrorCode,
    message: string,
    extra: { key?: string; value?: unknown; allowed?: string; file?: string; detail?: string } = {},
  ) {
    super(message);
    this.name = 'ConfigError';
    this.code = code;
    this.key = extra.key;
    this.value = extra.value;
    this.allowed = extra.allowed;
    this.file = extra.file;
    this.detail = extra.detail;
  }
}

/** A value as TOML would show it, with a database password hidden. */
export function displayValue(key: string, value: unknown): string {
  const shown = key === 'store.url' && typeof value === 'string' ? redactUrlPassword(value) : value;
  if (typeof shown === 'string') return quoteForDisplay(shown, 200);
  if (typeof shown === 'number' || typeof shown === 'boolean') return String(shown);
  if (Array.isArray(shown)) return 'an array';
  if (shown !== null && typeof shown === 'object') return 'a table';
  return String(shown);
}

function redactUrlPassword(value: string): string {
  try {
    const url = new URL(value);
    if (url.password === '') return value;
    url.password = '****';
    return url.toString();
  } catch {
    return /@/.test(value) ? '(a URL with credentials, hidden)' : value;
  }
}

export function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? Number.POSITIVE_INFINITY;
}
