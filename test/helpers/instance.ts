/** A real data directory, store and HTTPS server in this process, for tests that need many requests. */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { setSetting } from '../../src/config/file.js';
import { buildApp } from '../../src/http/app.js';
import { initDataDir } from '../../src/instance/init.js';
import { loadServerTls } from '../../src/instance/load.js';
import { type Instance, openInstance } from '../../src/instance/open.js';
import { systemClock } from '../../src/types.js';
import { tempDir } from './cli.js';

export interface TestServer {
  url: string;
  caPem: string;
  instance: Instance;
  app: FastifyInstance;
  dataDir: string;
  close(): Promise<void>;
}

export async function startTestServer(settings: Record<string, string> = {}): Promise<TestServer> {
  const tmp = tempDir('srv');
  const dataDir = join(tmp.path, 'data');
  await initDataDir({
    dataDir,
    keyType: 'ec-p256',
    caSubject: 'CN=test CA',
    caValidityDays: 365,
    serverValidityDays: 30,
    serverNames: [],
    clock: systemClock,
  });
  for (const [k, v] of Object.entries(settings)) setSetting(join(dataDir, 'certmaster.toml'), k, v);
  const instance = await openInstance(dataDir);
  const app = await buildApp({
    ra: instance.ra,
    ca: instance.ca,
    anonymousRequests: () => instance.config().ra.anonymous_requests,
    ready: async () => ({ ok: true, checks: {} }),
    logger: false,
    bodyLimit: instance.config().server.body_limit_bytes,
    https: loadServerTls(instance.layout),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `https://127.0.0.1:${port}`,
    caPem: instance.ca.certificatePem,
    instance,
    app,
    dataDir,
    close: async () => {
      await app.close();
      await instance.close();
      tmp.remove();
    },
  };
}
