/** The Actor the layers below see for an HTTP request: who, from where, with which credential, under which request id. */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../audit/event.js';

export function actorOf(request: FastifyRequest): Actor {
  const p = request.principal;
  return {
    name: p.name,
    requestId: request.id,
    address: request.ip,
    method: p.method,
    credentialId: p.token?.id ?? p.certificate?.serial ?? null,
  };
}
