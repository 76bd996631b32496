/** Checks of string settings: each returns null when the value is fine, else why it is not. */
import { isIP } from 'node:net';
import { parseAutosign } from '../domain/autosign.js';
import { isNameProblem, quoteForDisplay, validateDnsName } from '../domain/names.js';
import { parseReservedNames } from '../domain/reserved-names.js';
import { parseStoreUrl } from '../util/store-url.js';

/** Splits "HOST:PORT" ("[::1]:8443" for IPv6); throws an Error saying what is wrong. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  if (!match) throw new Error('expected HOST:PORT, with an IPv6 address in brackets as in [::1]:8443');
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new Error(`port ${port} is outside 1..65535`);
  const bracketed = match[1];
  if (bracketed !== undefined) {
    if (isIP(bracketed) !== 6 || bracketed.includes('%')) {
      throw new Error(`${quoteForDisplay(bracketed)} is not an IPv6 address`);
    }
    return { host: bracketed, port };
  }
  const host = match[2] ?? '';
  if (isIP(host) === 4) return { host, port };
  const checked = validateDnsName(host, { allowWildcard: false });
  if (isNameProblem(checked)) throw new Error(checked.reason);
  return { host: checked, port };
}

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

export function checkStoreUrl(value: string): string | null {
  if (!/^(sqlite:|postgres(ql)?:\/\/)/i.test(value))
    return 'must start with sqlite: or postgres:// (or postgresql://)';
  try {
    parseStoreUrl(value);
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
