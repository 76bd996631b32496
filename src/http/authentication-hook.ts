/**
 * The front door as a Fastify onRequest hook: it judges the request's credentials (Authorization,
 * or the TLS client certificate), sets `request.principal`, records a successful authentication in
 * the audit log before the route runs, and tells a client when its token is in its last fifth.
 */
import type { Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditSink } from '../audit/event.js';
import type { AuthOutcome, CredentialsInput } from '../auth/authenticator.js';
import type { Clock, Principal } from '../types.js';
import { authenticatedEvent } from './audit-events.js';
import { RENEWALS_ROUTE } from './renewals.js';

/** The certificate a TLS client presented (DER), if any; plain HTTP has none. */
function peerCertificate(socket: Socket): Buffer | undefined {
  if (!(socket instanceof TLSSocket)) return undefined;
  return socket.getPeerX509Certificate()?.raw;
}

export function authenticationHook(
  auth: { authenticate(input: CredentialsInput): Promise<AuthOutcome> },
  audit: AuditSink | undefined,
  clock: Clock,
  plainHttp: boolean,
): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
  return async (request, reply) => {
    // No principal while the front door judges: when it refuses, the metrics count a failed attempt,
    // where an anonymous principal means the door never looked.
    request.principal = null as unknown as Principal;
    const outcome = await auth.authenticate({
      authorization: request.headers.authorization,
      method: request.method,
      target: request.url,
      address: request.ip,
      plainHttp,
      clientCertificate: peerCertificate(request.raw.socket),
      // An expired certificate may still identify its host here, and nowhere else (ra.renew_after_expiry).
      expiredCertificateRoute: request.method === 'POST' && request.routeOptions.url === RENEWALS_ROUTE,
    });
    request.principal = outcome.principal;
    if (audit && !outcome.principal.anonymous) {
      // Fail closed: a request whose authentication cannot be recorded goes no further.
      await audit.record(authenticatedEvent(request, clock.now()));
    }
    for (const [name, value] of Object.entries(outcome.headers)) reply.header(name, value);
    const token = outcome.principal.token;
    if (token?.expiresAt) {
      // Tell clients to refresh before they meet a 401: in the last fifth of a token's lifetime.
      const now = clock.now().getTime();
      const left = token.expiresAt.getTime() - now;
      const lifetime = token.expiresAt.getTime() - token.issuedAt.getTime();
      if (left > 0 && left <= lifetime / 5)
        reply.header('certmaster-token-expires-in', String(Math.floor(left / 1000)));
    }
  };
}
