/** Checks of string settings: each returns null when the value is fine, else why it is not. */
import { parseAutosign } from '../domain/autosign.js';
import { parseListenAddress } from '../domain/listen-address.js';
import { parseReservedNames } from '../domain/reserved-names.js';
import { parseStoreUrl } from '../util/store-url.js';

export function checkListen(value: string): string | null {
  try {
    parseListenAddress(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function checkOptionalListen(value: string): string | null {
  return value === '' ? null : checkListen(value);
}

export function checkPublicUrl(value: string): string | null {
  if (value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an http:// or https:// URL, such as https://ca.example.com:8443';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '')
    return 'must have no query, fragment or credentials';
  return null;
}

/** A store URL as settings take it: with its scheme (parseStoreUrl knows which), never a bare path. */
export function checkStoreUrl(value: string): string | null {
  try {
    parseStoreUrl(value, undefined, { barePath: false });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function checkReservedNames(value: string): string | null {
  try {
    parseReservedNames(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function checkAutosign(value: string): string | null {
  try {
    parseAutosign(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

export function checkRelativeOrAbsolutePath(value: string): string | null {
  if (value === '') return 'must not be empty';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a path with control characters is refused
  if (/[\u0000-\u001f]/.test(value)) return 'the path contains a control character';
  return null;
}

export function checkResolver(value: string): string | null {
  if (value === '') return null;
  return checkListen(value);
}
