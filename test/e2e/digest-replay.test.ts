/**
 * A captured Digest Authorization (RFC 7616) replayed after SIGTERM and restart of `certmaster
 * serve`, or sent to another replica sharing the data directory, is answered nonce_stale with a
 * fresh stale=true challenge, never 200.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cli, type RunningServer, startServer, tempDir } from '../helpers/cli.js';
import { digestAuthorization } from '../helpers/digest.js';
import { call, type Reply } from '../helpers/http.js';

const tmp = tempDir('digest-replay');
const data = join(tmp.path, 'data');
const PASSWORD = 'Quartz-Lantern-Meadow-42';
let ca: string;
const running: RunningServer[] = [];

before(() => {
  const pw = join(tmp.path, 'admin.pw');
  writeFileSync(pw, `${PASSWORD}\n`, { mode: 0o600 });
  const init = cli(['init', '--data', data, '--admin-password-file', pw, '--admin-digest']);
  assert.equal(init.code, 0, init.stderr);
  ca = readFileSync(join(data, 'ca', 'ca.pem'), 'utf8');
});

after(async () => {
  for (const s of running) await s.stop('SIGTERM');
  tmp.remove();
});

async function serve(): Promise<RunningServer> {
  const s = await startServer(data);
  running.push(s);
  return s;
}

function whoami(url: string, authorization?: string): Promise<Reply> {
  return call(`${url}/v1/whoami`, { ca, ...(authorization ? { headers: { authorization } } : {}) });
}

function sha256Challenge(reply: Reply): Map<string, string> {
  const raw = reply.headers['www-authenticate'];
  // Node joins repeated WWW-Authenticate fields with ", ": split again before each scheme name.
  const all = (Array.isArray(raw) ? raw : raw ? [raw] : []).flatMap((v) =>
    v.split(/, (?=(?:Bearer|Digest|Basic) )/),
  );
  const digest = all.find((c) => c.startsWith('Digest ') && c.includes('algorithm=SHA-256'));
  assert.ok(digest, `a SHA-256 Digest challenge in ${all.join(' | ')}`);
  return new Map(
    [...digest.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1] ?? '', m[2] ?? m[3] ?? '']),
  );
}

/** What a client sends for GET /v1/whoami, answering the challenge of `reply`. */
function answer(reply: Reply): string {
  const c = sha256Challenge(reply);
  return digestAuthorization({
    user: 'admin',
    password: PASSWORD,
    realm: c.get('realm') ?? '',
    nonce: c.get('nonce') ?? '',
    opaque: c.get('opaque') ?? '',
    uri: '/v1/whoami',
  });
}

function assertStale(reply: Reply): void {
  assert.equal(reply.status, 401, reply.text);
  assert.equal(reply.json.reason, 'nonce_stale');
  assert.equal(sha256Challenge(reply).get('stale'), 'true');
}

test('a captured Digest response replayed after SIGTERM and restart is answered nonce_stale', async () => {
  const first = await serve();
  const captured = answer(await whoami(first.url));
  const ok = await whoami(first.url, captured);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.method, 'digest');
  assertStale(await whoami(first.url, captured));

  assert.equal(await first.stop('SIGTERM'), 0);
  const second = await serve();
  assertStale(await whoami(second.url, captured));
  // The stale=true challenge is all an honest client needs to go on.
  const retry = await whoami(second.url, answer(await whoami(second.url, captured)));
  assert.equal(retry.status, 200, retry.text);
});

test('a Digest response used on one replica is answered nonce_stale by another sharing the data directory', async () => {
  const a = await serve();
  const b = await serve();
  const captured = answer(await whoami(a.url));
  assert.equal((await whoami(a.url, captured)).status, 200);
  assertStale(await whoami(b.url, captured));
});
