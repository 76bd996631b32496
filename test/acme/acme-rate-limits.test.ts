/**
 * Per-name rate limits (acme.certificates_per_name_per_week, as Boulder's certificates per registered
 * name per week): through the real server, across accounts, refused rateLimited with Retry-After.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { TestAcmeClient } from '../helpers/acme-client.js';
import { tempDir } from '../helpers/cli.js';
import { startTestDns, type TestDns } from '../helpers/dns-server.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';

let dns: TestDns;
let server: TestServer;
const tmp = tempDir('acme-limits');

before(async () => {
  dns = await startTestDns();
  server = await startTestServer({
    'ra.autosign': '*.limited.test, *.free.test, *.burst.test',
    'acme.resolver': dns.address,
    'acme.certificates_per_name_per_week': '2',
  });
});

after(async () => {
  await server.close();
  await dns.close();
  tmp.remove();
});

/** Orders `name` and proves it over dns-01: the order is ready to finalize. */
async function readyOrder(
  client: TestAcmeClient,
  name: string,
): Promise<{ finalize: string; location: string }> {
  const order = await client.post(client.directory.newOrder ?? '', {
    identifiers: [{ type: 'dns', value: name }],
  });
  assert.equal(order.status, 201, order.text);
  const [authzUrl] = order.json.authorizations as string[];
  const authz = await client.post(authzUrl ?? '', null);
  const challenge = (authz.json.challenges as Array<{ type: string; url: string; token: string }>).find(
    (c) => c.type === 'dns-01',
  );
  assert.ok(challenge);
  const keyAuthorization = `${challenge.token}.${await client.thumbprint()}`;
  dns.txt.set(`_acme-challenge.${name}`, [createHash('sha256').update(keyAuthorization).digest('base64url')]);
  await client.post(challenge.url, {});
  assert.equal((await client.poll(authzUrl ?? '')).json.status, 'valid');
  return { finalize: String(order.json.finalize), location: String(order.headers.location) };
}

function csrFor(name: string): string {
  const { csrPem } = opensslCsr(tmp.path, name, `/CN=${name}`, { sans: [`DNS:${name}`] });
  return Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64').toString(
    'base64url',
  );
}

/** Orders `name`, proves it over dns-01, finalizes and waits for the certificate. */
async function issue(client: TestAcmeClient, name: string): Promise<void> {
  const order = await client.post(client.directory.newOrder ?? '', {
    identifiers: [{ type: 'dns', value: name }],
  });
  assert.equal(order.status, 201, order.text);
  const [authzUrl] = order.json.authorizations as string[];
  const authz = await client.post(authzUrl ?? '', null);
  const challenge = (authz.json.challenges as Array<{ type: string; url: string; token: string }>).find(
    (c) => c.type === 'dns-01',
  );
  assert.ok(challenge);
  const keyAuthorization = `${challenge.token}.${await client.thumbprint()}`;
  dns.txt.set(`_acme-challenge.${name}`, [createHash('sha256').update(keyAuthorization).digest('base64url')]);
  await client.post(challenge.url, {});
  assert.equal((await client.poll(authzUrl ?? '')).json.status, 'valid');
  const { csrPem } = opensslCsr(tmp.path, name, `/CN=${name}`, { sans: [`DNS:${name}`] });
  const der = Buffer.from(csrPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  await client.post(String(order.json.finalize), { csr: der.toString('base64url') });
  assert.equal((await client.poll(String(order.headers.location))).json.status, 'valid');
}

describe('ACME per-name rate limit', () => {
  it('refuses a third certificate under one registered name in a week, for any account, with Retry-After', async () => {
    const first = await TestAcmeClient.create(server.url, server.caPem);
    await first.register();
    const second = await TestAcmeClient.create(server.url, server.caPem);
    await second.register();
    await issue(first, 'a.limited.test');
    await issue(second, 'b.limited.test');

    const refused = await first.post(first.directory.newOrder ?? '', {
      identifiers: [{ type: 'dns', value: 'c.limited.test' }],
    });
    assert.equal(refused.status, 429, refused.text);
    assert.equal(refused.json.type, 'urn:ietf:params:acme:error:rateLimited');
    assert.equal(refused.json.reason, 'acme_rate_limited');
    assert.match(String(refused.json.detail), /limited\.test/);
    const retryAfter = Number(refused.headers['retry-after']);
    assert.ok(retryAfter > 7 * 24 * 3600 - 600 && retryAfter <= 7 * 24 * 3600, `Retry-After ${retryAfter}`);

    // Another registered name is not affected.
    const other = await first.post(first.directory.newOrder ?? '', {
      identifiers: [{ type: 'dns', value: 'a.free.test' }],
    });
    assert.equal(other.status, 201, other.text);
  });

  it('orders placed before any was finalized cannot all be finalized past the limit', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem);
    await client.register();
    // Three orders under one registered name, all ready before the first is finalized.
    const orders = [];
    for (const name of ['a.burst.test', 'b.burst.test', 'c.burst.test'])
      orders.push(await readyOrder(client, name));
    const outcomes = [];
    for (const [i, order] of orders.entries()) {
      const answer = await client.post(order.finalize, { csr: csrFor(`${'abc'[i]}.burst.test`) });
      if (answer.status === 200) await client.poll(order.location);
      outcomes.push(answer);
    }
    assert.deepEqual(
      outcomes.map((o) => o.status),
      [200, 200, 429],
      outcomes.map((o) => o.text).join('\n'),
    );
    assert.equal(outcomes[2]?.json.type, 'urn:ietf:params:acme:error:rateLimited');
  });
});
