/**
 * Starts `cfssl serve` (Cloudflare's CFSSL, Debian package golang-cfssl) with an ECDSA P-256 CA made by
 * openssl, as the reference point: it signs in memory, keeps nothing on disk, and speaks plain HTTP.
 */
import { accessSync, constants, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import type { ProcessGroup, Started } from './processes.js';

export interface CfsslServer {
  url: string;
  caFile: string;
  started: Started;
}

const COMMAND_TIMEOUT_MS = 30_000;
const START_TIMEOUT_MS = 15_000;
const POLL_MS = 100;

/** The first executable named `name` on PATH, or null. */
export function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/** A port that was free a moment ago; cfssl takes a port number and cannot be asked to pick one. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startCfssl(
  processes: ProcessGroup,
  options: { cfssl: string; openssl: string; dir: string },
): Promise<CfsslServer> {
  const { dir } = options;
  const caKey = join(dir, 'ca-key.pem');
  const caFile = join(dir, 'ca.pem');
  const config = join(dir, 'config.json');
  const run = { cwd: dir, timeoutMs: COMMAND_TIMEOUT_MS };
  await processes.run(
    options.openssl,
    ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey],
    run,
  );
  await processes.run(
    options.openssl,
    [
      ...['req', '-x509', '-new', '-key', caKey, '-subj', '/CN=certmaster bench cfssl CA', '-days', '2'],
      ...['-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      ...['-out', caFile],
    ],
    run,
  );
  // The same leaf profile certmaster issues: 90 days, server and client authentication.
  const usages = ['digital signature', 'key encipherment', 'server auth', 'client auth'];
  writeFileSync(config, JSON.stringify({ signing: { default: { usages, expiry: '2160h' } } }));
  const port = await freePort();
  const started = processes.start(
    options.cfssl,
    [
      ...['serve', '-address', '127.0.0.1', '-port', String(port)],
      ...['-ca', caFile, '-ca-key', caKey, '-config', config],
      // Warnings and errors only, as certmaster runs with --log-level warn.
      ...['-loglevel', '2'],
    ],
    { cwd: dir },
  );
  let ended: number | string | null = null;
  void started.exited.then((code) => {
    ended = code;
  });
  const deadline = performance.now() + START_TIMEOUT_MS;
  while (!(await canConnect(port))) {
    if (ended !== null) throw new Error(`cfssl serve ended (${ended}):\n${started.output().slice(-2000)}`);
    if (performance.now() > deadline) throw new Error(`cfssl serve did not listen in ${START_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return { url: `http://127.0.0.1:${port}`, caFile, started };
}
