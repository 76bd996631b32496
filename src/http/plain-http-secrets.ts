/**
 * Passwords and client secrets travel only over TLS, or over plain HTTP from this machine. RFC 6749
 * §3.2 requires TLS at the token endpoint, and RFC 7617 §4 warns that Basic sends the password in
 * the clear. A server behind a TLS-terminating proxy (`--insecure-http`) sees the proxy's address:
 * when that proxy runs on the same machine its requests are loopback and pass; a password reaching
 * plain HTTP from anywhere else has crossed a network in the clear, and is refused before it is
 * checked, so it cannot be used for a sign-in, and the client is told why.
 */
import type { FastifyRequest } from 'fastify';
import { OAuthError } from '../auth/tokens/oauth-error.js';
import { isLoopbackAddress } from '../util/address.js';

/**
 * The address the TCP connection comes from. Not request.ip: were a proxy ever trusted, that would
 * be a header the caller writes.
 */
export function socketAddress(request: FastifyRequest): string {
  return request.raw.socket.remoteAddress ?? '';
}

/** True when a secret sent on this request crossed a network in the clear. */
export function secretsRefused(plainHttp: boolean, request: FastifyRequest): boolean {
  return plainHttp && !isLoopbackAddress(socketAddress(request));
}

/** The refusal of a password or client secret sent over plain HTTP from another machine. */
export function plainHttpSecretRefusal(
  request: FastifyRequest,
  what: 'password' | 'client secret',
): OAuthError {
  return new OAuthError(
    'invalid_request',
    `this server does not accept a ${what} over plain HTTP from another machine`,
    'use the https:// URL of the server (or a TLS-terminating proxy on the server itself); the ' +
      `${what} sent may have been seen on the way, so change it`,
    { code: 'secret_over_plain_http', what, address: socketAddress(request).slice(0, 64) },
    { reason: 'insecure_transport' },
  );
}
