/**
 * The yardstick of the front-door ratios (issue 11): a bare Fastify 5 server in its own process, with
 * one route answering 200 with a small JSON body and one answering a fixed 401, and nothing else.
 *
 *   node --import tsx bench/bare-fastify.ts --key FILE --cert FILE --ca FILE
 *
 * It speaks the same transport as `certmaster serve` in the auth suite: HTTPS on 127.0.0.1 with the
 * certmaster data directory's server key and certificate, the same TLS policy (src/http/transport-
 * security.ts) and the same client-certificate request (Fastify passes its `http` options, certmaster's
 * header limit among them, only to a plain-HTTP server, so both run with Node's defaults there), so that a ratio against
 * it measures what certmaster adds above Fastify, not a difference of transport. The routes sit at the
 * paths of certmaster's bench-only routes (/__bench/bare, /__bench/bare-401), so the load generator's
 * `bare` and `bare-401` scenarios send the same requests to either. On SIGTERM it closes and exits 0.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
// transport-security.ts imports only types: it loads nothing of the server.
import { TLS_POLICY } from '../src/http/transport-security.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      key: { type: 'string' },
      cert: { type: 'string' },
      ca: { type: 'string' },
    },
    strict: true,
  });
  if (!values.key || !values.cert || !values.ca) throw new Error('--key, --cert and --ca are required');
  const app = Fastify({
    logger: false,
    forceCloseConnections: 'idle',
    https: {
      key: readFileSync(values.key, 'utf8'),
      cert: readFileSync(values.cert, 'utf8'),
      // As mutualTls() in src/instance/load.ts: a client certificate is asked for, never required.
      ca: readFileSync(values.ca, 'utf8'),
      requestCert: true,
      rejectUnauthorized: false,
      ...TLS_POLICY,
    },
  });
  app.get('/__bench/bare', async () => ({ ok: true }));
  // The same answer as certmaster's /__bench/bare-401: a fixed challenge and problem body.
  app.get('/__bench/bare-401', async (_request, reply) =>
    reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="certmaster"')
      .type('application/problem+json')
      .send({ type: 'about:blank', title: 'Unauthorized', status: 401 }),
  );
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  console.log(`bare fastify serving ${address}`);
  const close = () => {
    void app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', close);
  process.once('SIGINT', close);
}

try {
  await main();
} catch (e) {
  console.error(`bare-fastify: ${(e as Error).message}`);
  process.exitCode = 1;
}
