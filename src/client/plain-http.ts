/**
 * The CLI never sends a password over plain HTTP to another machine: on the way it can be read by
 * anyone on the network, and the server refuses it anyway (reason `insecure_transport`). Plain HTTP
 * to this machine (a server behind a TLS-terminating proxy, or a test) stays possible.
 */
import { isIP } from 'node:net';
import { isLoopbackAddress } from '../util/address.js';

/** Why a password must not be sent to `server`, or null when it may. */
export function passwordRefusalFor(server: string): string | null {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:') return null;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const loopback = host.toLowerCase() === 'localhost' || (isIP(host) !== 0 && isLoopbackAddress(host));
  if (loopback) return null;
  return (
    `refusing to send a password to ${url.origin}: plain HTTP would carry it in the clear across the ` +
    `network (and the server refuses it). Use the server's https:// URL, e.g. https://${url.host}`
  );
}
