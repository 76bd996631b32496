/** How values are written to columns and read back, the same on SQLite and PostgreSQL. */
import type { ColumnType } from 'kysely';

/** Milliseconds since the epoch: read as number (SQLite) or string (pg BIGINT), written as number. */
export type Millis = ColumnType<number | string, number, number>;

export function toMillis(at: Date): number {
  const ms = at.getTime();
  if (!Number.isSafeInteger(ms)) {
    throw new RangeError('invalid date: cannot be stored');
  }
  return ms;
}

export function fromMillis(value: number | string): Date {
  const ms = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(ms)) {
    throw new RangeError(`stored instant ${String(value)} is not an integer millisecond count`);
  }
  return new Date(ms);
}

export function fromOptionalMillis(value: number | string | null): Date | null {
  return value === null ? null : fromMillis(value);
}

export function encodeNames(names: readonly string[]): string {
  return JSON.stringify(names);
}

export function decodeNames(text: string): string[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed) || !parsed.every((name) => typeof name === 'string')) {
    throw new TypeError('stored name list is not a JSON array of strings');
  }
  return parsed;
}
