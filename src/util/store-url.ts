/**
 * The one reader of `store.url`: `sqlite:PATH` (a relative path is taken from a base directory, the
 * data directory for a server) or `postgres://` / `postgresql://`. Messages never repeat the URL: it
 * may carry a database password.
 */
import { resolve } from 'node:path';

export type StoreLocation = { kind: 'sqlite'; path: string } | { kind: 'postgres'; url: string };

/** The accepted schemes, as messages name them. */
export const STORE_URL_SCHEMES = 'sqlite: or postgres:// (or postgresql://)';

const POSTGRES_SCHEME = /^postgres(ql)?:\/\//i;
const SQLITE_SCHEME = /^sqlite:/i;

/**
 * Reads a store URL; a bare path is an SQLite file unless `barePath` is false (settings always name
 * their scheme). Throws an Error that says what is wrong.
 */
export function parseStoreUrl(
  url: string,
  base: string = process.cwd(),
  options: { barePath?: boolean } = {},
): StoreLocation {
  if (POSTGRES_SCHEME.test(url)) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error('the PostgreSQL URL does not parse');
    }
    if (parsed.hostname === '' && !parsed.searchParams.has('host')) {
      throw new Error('the PostgreSQL URL names no host');
    }
    return { kind: 'postgres', url };
  }
  const sqlite = SQLITE_SCHEME.test(url);
  if (!sqlite) {
    if (options.barePath === false) throw new Error(`must start with ${STORE_URL_SCHEMES}`);
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url);
    if (scheme !== null && url.slice(scheme[0].length).startsWith('//')) {
      throw new Error(`unsupported store URL scheme "${scheme[1]}": use ${STORE_URL_SCHEMES}`);
    }
  }
  if (url === '') throw new Error('the store URL is empty');
  const path = sqlite ? url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '') : url;
  if (path === '') throw new Error('sqlite: needs a file path, as in sqlite:certmaster.db');
  if (path.startsWith('//')) {
    throw new Error('a sqlite: store URL needs a file path, e.g. sqlite:/var/lib/certmaster/certmaster.db');
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a path with control characters is refused
  if (/[\u0000-\u001f]/.test(path)) throw new Error('the file path contains a control character');
  return { kind: 'sqlite', path: resolve(base, path) };
}

/** The URL with a relative SQLite path made absolute against `base`. */
export function absoluteStoreUrl(url: string, base: string): string {
  const location = parseStoreUrl(url, base);
  return location.kind === 'postgres' ? location.url : `sqlite:${location.path}`;
}
