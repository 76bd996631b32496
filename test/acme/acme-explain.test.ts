/**
 * `certmaster explain --acme-order ID`: an order's whole story from the store, with what the
 * validator saw, through the real CLI against a real server's data directory.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestAcmeClient } from '../helpers/acme-client.js';
import { cliAsync } from '../helpers/cli.js';
import { startTestDns, type TestDns } from '../helpers/dns-server.js';
import { freePort } from '../helpers/external.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

let dns: TestDns;
let server: TestServer;

before(async () => {
  dns = await startTestDns();
  // Nothing listens on this port: every http-01 validation is refused a connection.
  server = await startTestServer({
    'ra.autosign': '*.acme.test',
    'acme.http01_port': String(await freePort()),
    'acme.resolver': dns.address,
  });
});

after(async () => {
  await server.close();
  await dns.close();
});

describe('explain --acme-order', () => {
  it('tells the account, the authorization, what the validator saw, the error and what comes next', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem);
    await client.register();
    const order = await client.post(client.directory.newOrder ?? '', {
      identifiers: [{ type: 'dns', value: 'down.acme.test' }],
    });
    assert.equal(order.status, 201, order.text);
    const orderId = String(order.headers.location).split('/').pop() ?? '';
    const [authzUrl] = order.json.authorizations as string[];
    const authz = await client.post(authzUrl ?? '', null);
    const challenge = (authz.json.challenges as Array<{ type: string; url: string }>).find(
      (c) => c.type === 'http-01',
    );
    await client.post(challenge?.url ?? '', {});
    assert.equal((await client.poll(authzUrl ?? '')).json.status, 'invalid');

    const text = await cliAsync(['explain', '--acme-order', orderId, '--data', server.dataDir]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`ACME order ${orderId}: invalid`));
    assert.match(text.stdout, new RegExp(`account:  ${String(client.kid).split('/').pop()} \\(valid`));
    assert.match(text.stdout, /may order the names ra\.autosign allows/);
    assert.match(text.stdout, /authorization \S+ for down\.acme\.test: invalid/);
    assert.match(text.stdout, /http-01: invalid/);
    assert.match(text.stdout, /the validator saw: .*127\.0\.0\.1/);
    assert.match(text.stdout, /error: connection: /);
    assert.match(text.stdout, /Next: the order cannot go on/);

    const json = await cliAsync(['explain', '--acme-order', orderId, '--json', '--data', server.dataDir]);
    assert.equal(json.code, 0, json.stderr);
    const story = JSON.parse(json.stdout) as {
      order: { status: string };
      authorizations: Array<{ challenges: Array<{ type: string; seen: string | null }> }>;
    };
    assert.equal(story.order.status, 'invalid');
    assert.ok(story.authorizations[0]?.challenges.find((c) => c.type === 'http-01')?.seen);

    const missing = await cliAsync(['explain', '--acme-order', 'nosuchorder', '--data', server.dataDir]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no ACME order has id nosuchorder/);
  });
});
