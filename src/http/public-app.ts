/**
 * The plain-HTTP listener for relying parties (`server.public_http_listen`). Fetching a CRL or an OCSP
 * answer over TLS would be circular (the client would have to check the server's certificate first), so
 * these are served over http://, and nothing else is: no API, no authentication, no OpenAPI document.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { pkiPlugin } from './pki.js';
import { type RevocationRoutesOptions, revocationPlugin } from './revocation.js';

export async function buildPublicApp(deps: {
  ca: { certificatePem: string; certificateDer: Buffer };
  revocation: RevocationRoutesOptions;
}): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: 'idle', bodyLimit: 4096 });
  await app.register(pkiPlugin, { ca: deps.ca, publicOnly: true });
  await app.register(revocationPlugin, deps.revocation);
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('text/plain')
      .send(`nothing is served at ${request.method} ${request.url.split('?')[0]}\n`),
  );
  return app;
}
