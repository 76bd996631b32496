import type { FastifyPluginAsync } from 'fastify';

export const healthPlugin: FastifyPluginAsync<{
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
}> = async (app, opts) => {
  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const result = await opts.ready();
    return reply
      .code(result.ok ? 200 : 503)
      .send({ status: result.ok ? 'ready' : 'not ready', checks: result.checks });
  });
};
