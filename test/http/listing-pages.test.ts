/**
 * Listings page instead of stopping silently (issue: "listing stops at 1,000 without saying so"):
 * over real HTTPS, /v1/certificates and /v1/requests answer `limit` rows with a `next` cursor and an
 * RFC 8288 `Link: <...>; rel="next"` header, following them gives every row once, a forged cursor is
 * a clear 400; and the real CLI with --data lists past a page of 1,000 with --all and says when
 * there are more than it shows.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cli } from '../helpers/cli.js';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { autosigned } from '../store/records.js';

const ADMIN = { name: 'admin', password: 'Quarry-Lantern-Meadow-41', digest: false };
const auth = `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}`;
const TOTAL = 2_345;

describe('paged listings', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer({}, { admin: ADMIN });
    // Rows as the RA stores them, straight into the store: issuing 2,345 certificates would only be slower.
    const base = Date.now() - 3_600_000;
    await Promise.all(
      Array.from({ length: TOTAL }, (_, i) => {
        const at = new Date(base + Math.floor(i / 3) * 1000); // three rows per second: ties on purpose
        const { request, certificate } = autosigned({ createdAt: at, updatedAt: at }, { createdAt: at });
        return server.instance.store.submitRequest(request, certificate, {
          allowDuplicateCertificates: true,
          now: at,
        });
      }),
    );
  });
  after(() => server.close());

  test('limit, next and Link rel="next": following them gives every certificate once', async () => {
    const seen = new Set<string>();
    let path: string | null = '/v1/certificates?status=all&limit=500';
    let pages = 0;
    while (path !== null) {
      const reply = await call(`${server.url}${path}`, {
        ca: server.caPem,
        headers: { authorization: auth },
      });
      assert.equal(reply.status, 200, JSON.stringify(reply.json));
      const body = reply.json as { certificates: Array<{ serial: string }>; next: string | null };
      pages++;
      for (const c of body.certificates) {
        assert.ok(!seen.has(c.serial), `certificate ${c.serial} twice`);
        seen.add(c.serial);
      }
      const link = reply.headers.link;
      if (body.next === null) {
        assert.equal(link, undefined, 'no Link on the last page');
        path = null;
      } else {
        assert.equal(body.certificates.length, 500);
        const match = /^<([^>]+)>; rel="next"$/.exec(String(link));
        assert.ok(match, `Link header: ${String(link)}`);
        assert.ok(match[1]?.includes(`cursor=${body.next}`));
        assert.ok(match[1]?.includes('limit=500') && match[1]?.includes('status=all'), 'the same listing');
        path = match[1] ?? null;
      }
    }
    assert.equal(pages, 5);
    assert.equal(seen.size, TOTAL);
  });

  test('requests page the same way; a cursor this server did not make is a clear 400', async () => {
    const first = await call(`${server.url}/v1/requests?state=all&limit=1000`, {
      ca: server.caPem,
      headers: { authorization: auth },
    });
    const body = first.json as { requests: unknown[]; next: string | null };
    assert.equal(body.requests.length, 1000);
    assert.ok(body.next);
    const forged = await call(`${server.url}/v1/requests?state=all&cursor=bm90LWEtY3Vyc29y`, {
      ca: server.caPem,
      headers: { authorization: auth },
    });
    assert.equal(forged.status, 400);
    assert.equal(forged.json.reason, 'invalid_argument');
    assert.match(String(forged.json.detail), /cursor is not one this server gave/);
    assert.match(String(forged.json.hint), /without cursor/);
  });

  test('the audit log pages by seq, newest or oldest first, with next and Link', async () => {
    for (const order of ['newest', 'oldest'] as const) {
      const seqs: number[] = [];
      let path: string | null = `/v1/audit?order=${order}&limit=3`;
      for (let page = 0; page < 3 && path !== null; page++) {
        const reply = await call(`${server.url}${path}`, {
          ca: server.caPem,
          headers: { authorization: auth },
        });
        assert.equal(reply.status, 200, JSON.stringify(reply.json));
        const body = reply.json as { records: Array<{ seq: number }>; next: string | null };
        assert.equal(body.records.length, 3);
        seqs.push(...body.records.map((r) => r.seq));
        assert.equal(body.next, String(body.records[2]?.seq));
        path = /^<([^>]+)>; rel="next"$/.exec(String(reply.headers.link))?.[1] ?? null;
        assert.ok(
          path?.includes(`${order === 'newest' ? 'before_seq' : 'after_seq'}=${body.next}`),
          path ?? 'no Link',
        );
      }
      assert.equal(new Set(seqs).size, 9, `${order}: no record twice`);
      const sorted = [...seqs].sort((a, b) => (order === 'newest' ? b - a : a - b));
      assert.deepEqual(seqs, sorted, `${order}: in order across pages`);
    }
  });

  test('the CLI: --all lists every certificate; by default it says there are more', () => {
    const all = cli(['ca', 'list', '--all', '--json', '--data', server.dataDir], { timeoutMs: 120_000 });
    assert.equal(all.code, 0, all.stderr);
    const listed = JSON.parse(all.stdout) as { requests: unknown[]; certificates: unknown[] };
    assert.equal(listed.certificates.length, TOTAL);
    assert.equal(listed.requests.length, TOTAL);
    assert.doesNotMatch(all.stderr, /there are more/);

    const some = cli(['ca', 'list', '--signed', '--limit', '7', '--json', '--data', server.dataDir]);
    assert.equal(some.code, 0, some.stderr);
    assert.equal((JSON.parse(some.stdout) as unknown[]).length, 7);
    assert.match(
      some.stderr,
      /showing the newest 7 certificates; there are more: use --all, or a larger --limit/,
    );

    const plain = cli(['ca', 'list', '--signed', '--data', server.dataDir]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stderr, /showing the newest 1000 certificates; there are more/);
    const bad = cli(['ca', 'list', '--limit', '0', '--data', join(server.dataDir)]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /--limit "0" is not a whole number/);
  });
});
