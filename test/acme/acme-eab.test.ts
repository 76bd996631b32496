/**
 * External Account Binding (RFC 8555 §7.3.4) with `acme.require_eab true`: accounts need a binding
 * made with an enrollment token's EAB credentials, and their orders are limited to the token's names.
 * Our own client, and lego (`--eab --kid --hmac`).
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlattenedSign, type JWK } from 'jose';
import { EAB_KEY_PURPOSE, eabCredentialsOf } from '../../src/auth/tokens/acme-eab.js';
import { OpaqueTokens } from '../../src/auth/tokens/opaque-tokens.js';
import { openSecretBox } from '../../src/instance/front-door.js';
import { systemClock } from '../../src/types.js';
import { TestAcmeClient } from '../helpers/acme-client.js';
import { cliAsync, tempDir } from '../helpers/cli.js';
import { startTestDns, type TestDns } from '../helpers/dns-server.js';
import { freePort, run } from '../helpers/external.js';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { openssl, writeTemp } from '../helpers/openssl.js';

const tmp = tempDir('acme-eab');
const ADMIN = { name: 'admin', password: 'Quarry-Lantern-Meadow-41', digest: false };
let port: number;
let dns: TestDns;
let server: TestServer;

before(async () => {
  port = await freePort();
  dns = await startTestDns();
  server = await startTestServer(
    {
      'ra.autosign': '*.acme.test',
      'acme.require_eab': 'true',
      'acme.http01_port': String(port),
      'acme.resolver': dns.address,
    },
    { admin: ADMIN },
  );
});

after(async () => {
  await server.close();
  await dns.close();
  tmp.remove();
});

async function eabToken(pattern: string, extra: { ttlSeconds?: number } = {}) {
  const created = await new OpaqueTokens({ store: server.instance.store, clock: systemClock }).create({
    kind: 'enrollment',
    owner: 'admin',
    namePattern: pattern,
    ...extra,
  });
  const serverKey = openSecretBox(server.instance.layout).deriveKey(EAB_KEY_PURPOSE);
  return { ...eabCredentialsOf(serverKey, created.record.id, created.token), id: created.record.id };
}

async function binding(client: TestAcmeClient, kid: string, hmacKey: string, jwk: JWK = client.jwk) {
  return new FlattenedSign(new TextEncoder().encode(JSON.stringify(jwk)))
    .setProtectedHeader({ alg: 'HS256', kid, url: client.directory.newAccount ?? '' })
    .sign(Buffer.from(hmacKey, 'base64url'));
}

function register(client: TestAcmeClient, externalAccountBinding?: unknown) {
  return client.post(
    client.directory.newAccount ?? '',
    { termsOfServiceAgreed: true, ...(externalAccountBinding ? { externalAccountBinding } : {}) },
    { useJwk: true },
  );
}

describe('ACME External Account Binding', () => {
  it('refuses an account without a binding with externalAccountRequired, and says so in the directory', async () => {
    const client = await TestAcmeClient.create(server.url, server.caPem);
    assert.equal(
      (client.directory.meta as unknown as { externalAccountRequired: boolean }).externalAccountRequired,
      true,
    );
    const r = await register(client);
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.type, 'urn:ietf:params:acme:error:externalAccountRequired');
    assert.equal(r.json.reason, 'acme_eab_required');
  });

  it('refuses a wrong HMAC key, an unknown kid, and a binding of another key', async () => {
    const { kid } = await eabToken('*.eab.test');
    const client = await TestAcmeClient.create(server.url, server.caPem);
    const wrongKey = await register(
      client,
      await binding(client, kid, Buffer.alloc(32, 7).toString('base64url')),
    );
    assert.equal(wrongKey.status, 403, wrongKey.text);
    assert.equal(wrongKey.json.type, 'urn:ietf:params:acme:error:unauthorized');
    const good = await eabToken('*.eab.test');
    const unknown = await register(client, await binding(client, 'tok_nosuchtoken', good.hmacKey));
    assert.equal(unknown.status, 403, unknown.text);
    const other = await TestAcmeClient.create(server.url, server.caPem);
    const otherKey = await register(client, await binding(client, good.kid, good.hmacKey, other.jwk));
    assert.equal(otherKey.status, 403, otherKey.text);
    assert.match(String(otherKey.json.detail), /another key/);
  });

  it('a copy of the database alone gives no EAB key: the key derived from the stored hash only is refused', async () => {
    const { kid, id } = await eabToken('*.eab.test');
    const record = await server.instance.store.getToken(id);
    assert.ok(record);
    // What the stored hash alone yields, as the first version derived it: not the key any more.
    const fromHashAlone = createHmac('sha256', Buffer.from(record.secretHash, 'hex'))
      .update('certmaster acme eab v1')
      .digest('base64url');
    const client = await TestAcmeClient.create(server.url, server.caPem);
    const r = await register(client, await binding(client, kid, fromHashAlone));
    assert.equal(r.status, 403, r.text);
    assert.equal(r.json.type, 'urn:ietf:params:acme:error:unauthorized');
  });

  it('over the API: POST /v1/tokens with acme_eab answers the key once, and the server accepts it', async () => {
    const answer = await call(`${server.url}/v1/tokens`, {
      method: 'POST',
      ca: server.caPem,
      headers: {
        authorization: `Basic ${Buffer.from(`${ADMIN.name}:${ADMIN.password}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({ kind: 'enrollment', name_pattern: '*.eab.test', acme_eab: true }),
    });
    assert.equal(answer.status, 201, answer.text);
    const eab = answer.json.acme_eab as { kid: string; hmac_key: string };
    assert.equal(eab.kid, (answer.json.record as { id: string }).id);
    const client = await TestAcmeClient.create(server.url, server.caPem);
    const r = await register(client, await binding(client, eab.kid, eab.hmac_key));
    assert.equal(r.status, 201, r.text);
  });

  it('refuses a binding with a revoked token', async () => {
    const { kid, hmacKey, id } = await eabToken('*.eab.test');
    await server.instance.store.revokeToken(id, new Date());
    const client = await TestAcmeClient.create(server.url, server.caPem);
    const r = await register(client, await binding(client, kid, hmacKey));
    assert.equal(r.status, 403, r.text);
  });

  it('binds an account and limits its orders to the token’s names, rejectedIdentifier naming the others', async () => {
    const { kid, hmacKey } = await eabToken('*.eab.test');
    const client = await TestAcmeClient.create(server.url, server.caPem);
    const r = await register(client, await binding(client, kid, hmacKey));
    assert.equal(r.status, 201, r.text);
    client.kid = String(r.headers.location);
    const ok = await client.post(client.directory.newOrder ?? '', {
      identifiers: [{ type: 'dns', value: 'host.eab.test' }],
    });
    assert.equal(ok.status, 201, ok.text);
    // Allowed by ra.autosign, but not by the token the account is bound to.
    const refused = await client.post(client.directory.newOrder ?? '', {
      identifiers: [
        { type: 'dns', value: 'host.eab.test' },
        { type: 'dns', value: 'www.acme.test' },
      ],
    });
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.json.type, 'urn:ietf:params:acme:error:rejectedIdentifier');
    assert.match(String(refused.json.detail), /www\.acme\.test/);
    const sub = refused.json.subproblems as Array<{ identifier: { value: string } }>;
    assert.deepEqual(
      sub.map((s) => s.identifier.value),
      ['www.acme.test'],
    );
  });

  it('lego registers with --eab --kid --hmac and obtains a certificate for the token’s names only', async () => {
    const { kid, hmacKey } = await eabToken('*.eab.test');
    const caFile = writeTemp(tmp.path, 'ca.pem', server.caPem);
    const path = join(tmp.path, 'lego');
    const args = (name: string) => [
      '--server',
      `${server.url}/acme/directory`,
      '--accept-tos',
      '--email',
      'ops@eab.test',
      '--eab',
      '--kid',
      kid,
      '--hmac',
      hmacKey,
      '--path',
      path,
      '--domains',
      name,
      '--http',
      '--http.port',
      `127.0.0.1:${port}`,
      'run',
    ];
    const env = { LEGO_CA_CERTIFICATES: caFile };
    const obtained = await run('lego', args('lego.eab.test'), { env });
    assert.equal(obtained.code, 0, `${obtained.stdout}${obtained.stderr}`);
    const certFile = join(path, 'certificates', 'lego.eab.test.crt');
    const verified = openssl(['verify', '-CAfile', caFile, certFile]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    const refused = await run('lego', args('lego.acme.test'), { env });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout + refused.stderr, /rejectedIdentifier/);
  });

  it('`certmaster token create --enroll PATTERN --acme-eab` prints credentials the server accepts', async () => {
    const alone = await cliAsync([
      'token',
      'create',
      '--acme-eab',
      '--scope',
      'requests:read',
      '--data',
      server.dataDir,
    ]);
    assert.notEqual(alone.code, 0);
    assert.match(alone.stderr, /--enroll PATTERN/);
    const created = await cliAsync([
      'token',
      'create',
      '--enroll',
      '*.eab.test',
      '--acme-eab',
      '--json',
      '--data',
      server.dataDir,
      '--owner',
      'admin',
    ]);
    assert.equal(created.code, 0, created.stderr);
    const out = JSON.parse(created.stdout) as {
      record: { id: string };
      acme_eab: { kid: string; hmac_key: string };
    };
    assert.equal(out.acme_eab.kid, out.record.id);
    const client = await TestAcmeClient.create(server.url, server.caPem);
    const r = await register(client, await binding(client, out.acme_eab.kid, out.acme_eab.hmac_key));
    assert.equal(r.status, 201, r.text);
  });
});
