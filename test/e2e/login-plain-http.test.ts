/**
 * `certmaster login` refuses to send a password over plain HTTP to another machine, says why, and
 * does not even connect; plain HTTP to loopback is still allowed by the check.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { passwordRefusalFor } from '../../src/client/plain-http.js';
import { cliAsync, tempDir } from '../helpers/cli.js';

const tmp = tempDir('login-plain');
after(() => tmp.remove());

function localNonLoopbackAddress(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('this machine has no non-loopback IPv4 address to test with');
}

test('login --server http://<another address> refuses before connecting and says why', async () => {
  const address = localNonLoopbackAddress();
  const connections: Socket[] = [];
  const listener = createServer((socket) => {
    connections.push(socket);
    socket.destroy();
  });
  await new Promise<void>((resolve) => listener.listen(0, address, resolve));
  const { port } = listener.address() as { port: number };
  const pw = join(tmp.path, 'pw');
  writeFileSync(pw, 'Quartz-Lantern-Meadow-42\n', { mode: 0o600 });
  try {
    const r = await cliAsync(
      ['login', '--server', `http://${address}:${port}`, '--user', 'admin', '--password-file', pw],
      { env: { HOME: tmp.path, XDG_CONFIG_HOME: join(tmp.path, 'config') } },
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /refusing to send a password to http:\/\/.*plain HTTP.*https:\/\//s);
    assert.ok(!r.stderr.includes('Quartz'), 'the password is not echoed');
    assert.equal(connections.length, 0, 'nothing was sent to the server');
  } finally {
    listener.close();
  }
});

test('which servers a password may be sent to', () => {
  for (const ok of [
    'https://ca.example.com:8443',
    'http://127.0.0.1:8080',
    'http://127.1.2.3',
    'http://localhost:8080',
    'http://[::1]:8080',
  ])
    assert.equal(passwordRefusalFor(ok), null, ok);
  for (const bad of [
    'http://ca.example.com',
    'http://192.0.2.7:8080',
    'http://[2001:db8::1]/',
    'http://127.0.0.1.nip.io',
  ])
    assert.match(passwordRefusalFor(bad) ?? '', /refusing to send a password/, bad);
});
