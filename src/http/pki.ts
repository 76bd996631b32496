/** Public PKI material, served without authentication. */
import type { FastifyPluginAsync } from 'fastify';

export const pkiPlugin: FastifyPluginAsync<{
  ca: { certificatePem: string; certificateDer: Buffer };
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
