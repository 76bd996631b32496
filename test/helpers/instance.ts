/** A real data directory, store and HTTPS server in this process, for tests that need many requests. */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { setSetting } from '../../src/config/file.js';
import type { FrontDoorParts } from '../../src/instance/front-door.js';
import { initDataDir } from '../../src/instance/init.js';
import { type Instance, openInstance } from '../../src/instance/open.js';
import { startCertmasterServer } from '../../src/instance/server.js';
import { type Clock, systemClock } from '../../src/types.js';
import { tempDir } from './cli.js';

export interface TestServer {
  url: string;
  caPem: string;
  instance: Instance;
  app: FastifyInstance;
  dataDir: string;
  frontDoor: FrontDoorParts;
  close(): Promise<void>;
}

export async function startTestServer(
  settings: Record<string, string> = {},
  options: {
    clock?: Clock;
    /** The RA and store use `clock` too (certificates are issued at its time), not only the front door. */
    clockEverywhere?: boolean;
    admin?: { name: string; password: string; digest: boolean };
    /** Plain HTTP (as `serve --insecure-http`), on `host` (default 127.0.0.1, an address of this machine). */
    plainHttp?: boolean;
    host?: string;
    /** Where the data directory goes (a small filesystem, say); default the system's temporary directory. */
    under?: string;
  } = {},
): Promise<TestServer> {
  const tmp = tempDir('srv', options.under);
  const dataDir = join(tmp.path, 'data');
  await initDataDir({
    dataDir,
    keyType: 'ec-p256',
    caSubject: 'CN=test CA',
    caValidityDays: 365,
    serverValidityDays: 30,
    serverNames: [],
    clock: systemClock,
    ...(options.admin ? { admin: options.admin } : {}),
  });
  // The test servers write SQLite from the writer thread (store.writer_thread, off by default), so the
  // HTTP tests cover that path too; servers started through the real bin cover the default.
  const withDefaults = { 'store.writer_thread': 'true', ...settings };
  for (const [k, v] of Object.entries(withDefaults)) setSetting(join(dataDir, 'certmaster.toml'), k, v);
  // As `certmaster serve` opens it, with the crypto threads (server.crypto_threads).
  const instance = await openInstance(dataDir, {
    writerThread: true,
    cryptoThreads: true,
    ...(options.clockEverywhere && options.clock ? { clock: options.clock } : {}),
  });
  const server = await startCertmasterServer(instance, {
    host: options.host ?? '127.0.0.1',
    port: 0,
    ...(options.plainHttp ? { plainHttp: true } : {}),
    logger: false,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = server.app;
  const url = server.url;
  return {
    url,
    frontDoor: server.frontDoor,
    caPem: instance.ca.certificatePem,
    instance,
    app,
    dataDir,
    close: async () => {
      await server.close();
      await instance.close();
      tmp.remove();
    },
  };
}
