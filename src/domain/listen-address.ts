/**
 * The one reader of a listen address ("HOST:PORT", "[::1]:8443" for IPv6): server.listen and the other
 * address settings, `serve --listen`, and everything that later splits a checked setting.
 */
import { isIP } from 'node:net';
import { isNameProblem, quoteForDisplay, validateDnsName } from './names.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * Splits "HOST:PORT": brackets only around an IPv6 address (no zone), an IPv4 address, or a DNS name
 * (returned lower-cased). The port is 1..65535; `allowPortZero` also takes 0, which asks the system for
 * a free port (`serve --listen 127.0.0.1:0`). Throws an Error saying what is wrong.
 */
export function parseListenAddress(text: string, options: { allowPortZero?: boolean } = {}): ListenAddress {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  if (!match) throw new Error('expected HOST:PORT, with an IPv6 address in brackets as in [::1]:8443');
  const port = Number(match[3]);
  const lowest = options.allowPortZero === true ? 0 : 1;
  if (port < lowest || port > 65535) throw new Error(`port ${port} is outside ${lowest}..65535`);
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
