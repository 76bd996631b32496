/**
 * /v1/tokens and /v1/users page like the other listings (a `next` cursor and `Link: rel="next"`), and
 * `certmaster token list` (local and --server) and `certmaster user list` follow the pages: past the
 * store's 10,000-row bound, which used to cut these lists silently.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { cli, cliAsync } from '../helpers/cli.js';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { apiToken, userRecord } from '../store/auth-records.js';

const ADMIN = { name: 'admin', password: 'Quarry-Lantern-Meadow-41', digest: false };
const auth = `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}`;
const TOKENS = 10_050;
const USERS = 10_020;

/** Follows `Link: rel="next"` from `path`; every item's key once, and the number of pages. */
async function follow(
  server: TestServer,
  path: string,
  member: 'tokens' | 'users',
  keyOf: (item: Record<string, unknown>) => string,
): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let next: string | null = path;
  let pages = 0;
  while (next !== null) {
    const reply = await call(`${server.url}${next}`, { ca: server.caPem, headers: { authorization: auth } });
    assert.equal(reply.status, 200, reply.text);
    const body = reply.json as Record<string, unknown> & { next: string | null };
    pages++;
    keys.push(...(body[member] as Array<Record<string, unknown>>).map(keyOf));
    if (body.next === null) {
      assert.equal(reply.headers.link, undefined);
      next = null;
    } else {
      const match = /^<([^>]+)>; rel="next"$/.exec(String(reply.headers.link));
      assert.ok(match?.[1]?.includes(`cursor=${body.next}`), String(reply.headers.link));
      next = match?.[1] ?? null;
    }
  }
  return { keys, pages };
}

describe('paged token and account listings', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({}, { admin: ADMIN });
    const base = Date.now() - 3_600_000;
    // Straight into the store: three tokens per second, so ties on the time are paged by id.
    await Promise.all(
      Array.from({ length: TOKENS }, (_, i) =>
        server.instance.store.createToken(
          apiToken(ADMIN.name, { createdAt: new Date(base + Math.floor(i / 3) * 1000), expiresAt: null }),
        ),
      ),
    );
    await Promise.all(
      Array.from({ length: USERS }, (_, i) =>
        server.instance.store.createUser(userRecord({ name: `user-${String(i).padStart(5, '0')}` })),
      ),
    );
  });
  after(() => server.close());

  test('/v1/tokens: limit, next and Link give every token once, newest first', async () => {
    const { keys, pages } = await follow(server, '/v1/tokens?limit=4000', 'tokens', (t) => String(t.id));
    assert.equal(pages, 3);
    assert.equal(new Set(keys).size, TOKENS);
    assert.equal(keys.length, TOKENS);
  });

  test('/v1/users: pages by name; a forged cursor is a clear 400', async () => {
    const { keys, pages } = await follow(server, '/v1/users?limit=3000', 'users', (u) => String(u.name));
    assert.equal(pages, 4);
    assert.equal(keys.length, USERS + 1); // and the admin
    assert.deepEqual(keys, [...keys].sort());
    assert.equal(new Set(keys).size, keys.length);
    const forged = await call(`${server.url}/v1/users?cursor=bm90LWEtY3Vyc29y`, {
      ca: server.caPem,
      headers: { authorization: auth },
    });
    assert.equal(forged.status, 400);
    assert.equal(forged.json.reason, 'invalid_argument');
    assert.match(String(forged.json.detail), /cursor is not one this server gave/);
  });

  test('the CLI lists every token (--data and --server) and every account (--data)', async () => {
    const local = cli(['token', 'list', '--json', '--data', server.dataDir], { timeoutMs: 120_000 });
    assert.equal(local.code, 0, local.stderr);
    assert.equal((JSON.parse(local.stdout) as unknown[]).length, TOKENS);

    const created = cli([
      'token',
      'create',
      '--owner',
      ADMIN.name,
      '--scope',
      'tokens:manage',
      '--json',
      '--data',
      server.dataDir,
    ]);
    assert.equal(created.code, 0, created.stderr);
    const secret = (JSON.parse(created.stdout) as { token: string }).token;
    const remote = await cliAsync(
      [
        'token',
        'list',
        '--json',
        '--server',
        server.url,
        '--token',
        secret,
        '--ca-file',
        `${server.dataDir}/ca/ca.pem`,
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(remote.code, 0, remote.stderr);
    assert.equal((JSON.parse(remote.stdout) as unknown[]).length, TOKENS + 1);

    const users = cli(['user', 'list', '--json', '--data', server.dataDir], { timeoutMs: 120_000 });
    assert.equal(users.code, 0, users.stderr);
    assert.equal((JSON.parse(users.stdout) as unknown[]).length, USERS + 1);
  });
});
