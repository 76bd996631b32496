/** Public PKI material, served without authentication. */
import type { FastifyPluginAsync } from 'fastify';

export const pkiPlugin: FastifyPluginAsync<{
  ca: { certificatePem: string; certificateDer: Buffer };
  /** Only /ca.pem: the plain-HTTP public listener serves no /v1 route. */
  publicOnly?: boolean;
}> = async (app, opts) => {
  const { certificatePem } = opts.ca;
  app.get(
    '/ca.pem',
    { schema: { summary: 'The CA certificate, PEM', tags: ['pki'] } },
    async (_request, reply) =>
      reply
        .type('application/x-pem-file')
        .header('cache-control', 'public, max-age=300')
        .send(certificatePem),
  );
  if (opts.publicOnly) return;
  app.get(
    '/v1/ca',
    {
      schema: {
        summary: 'The CA certificate',
        tags: ['pki'],
        response: { 200: { type: 'object', properties: { certificate: { type: 'string' } } } },
      },
    },
    async () => ({ certificate: certificatePem }),
  );
};
