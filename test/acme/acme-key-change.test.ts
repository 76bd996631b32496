/** Account key rollover (RFC 8555 §7.3.5) through the real HTTPS server, with its nested JWS checks. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { FlattenedSign, type JWK } from 'jose';
import { TestAcmeClient } from '../helpers/acme-client.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

let server: TestServer;

before(async () => {
  server = await startTestServer({ 'ra.autosign': '*.acme.test' });
});

after(async () => {
  await server.close();
});

/** The inner JWS: signed by `signer`'s key, carrying `jwk` (normally the same key). */
async function inner(
  signer: TestAcmeClient,
  url: string,
  payload: Record<string, unknown>,
  extraHeader: Record<string, unknown> = {},
  jwk: JWK = signer.jwk,
) {
  return new FlattenedSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: signer.alg, jwk, url, ...extraHeader } as { alg: string })
    .sign(signer.privateKey);
}

async function registered(): Promise<TestAcmeClient> {
  const client = await TestAcmeClient.create(server.url, server.caPem);
  const r = await client.register();
  assert.equal(r.status, 201, r.text);
  return client;
}

describe('ACME keyChange', () => {
  it('rolls the account over to a new key: the new key acts for the account, the old one no longer', async () => {
    const old = await registered();
    const next = await TestAcmeClient.create(server.url, server.caPem, 'EdDSA');
    const url = old.directory.keyChange ?? '';
    const r = await old.post(url, await inner(next, url, { account: old.kid, oldKey: old.jwk }));
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.location, old.kid);

    next.kid = old.kid;
    const asNew = await next.post(next.kid ?? '', null);
    assert.equal(asNew.status, 200, asNew.text);
    const found = await next.post(
      next.directory.newAccount ?? '',
      { onlyReturnExisting: true },
      { useJwk: true },
    );
    assert.equal(found.headers.location, old.kid);
    const asOld = await old.post(old.kid ?? '', null);
    // The account key is now Ed25519: an ES256 signature by the old key cannot be checked against it.
    assert.equal(asOld.status, 400);
    assert.match(String(asOld.json.type), /:(badPublicKey|malformed)$/);
  });

  it('refuses a nonce or another url in the inner JWS, a wrong oldKey or account, and a bad inner signature', async () => {
    const old = await registered();
    const next = await TestAcmeClient.create(server.url, server.caPem);
    const url = old.directory.keyChange ?? '';
    const good = { account: old.kid, oldKey: old.jwk };

    const withNonce = await old.post(url, await inner(next, url, good, { nonce: 'abc' }));
    assert.equal(withNonce.status, 400, withNonce.text);
    assert.match(String(withNonce.json.detail), /nonce/);

    const otherUrl = await old.post(url, await inner(next, `${server.url}/acme/new-order`, good));
    assert.equal(otherUrl.status, 400, otherUrl.text);
    assert.match(String(otherUrl.json.detail), /url/);

    const wrongOld = await old.post(url, await inner(next, url, { account: old.kid, oldKey: next.jwk }));
    assert.equal(wrongOld.status, 403, wrongOld.text);
    assert.equal(wrongOld.json.type, 'urn:ietf:params:acme:error:unauthorized');

    const wrongAccount = await old.post(
      url,
      await inner(next, url, { account: `${server.url}/acme/account/someoneelse`, oldKey: old.jwk }),
    );
    assert.equal(wrongAccount.status, 403, wrongAccount.text);

    // Signed by `old` but claiming `next`'s key: the new key did not accept.
    const notSignedByNew = await old.post(url, await inner(old, url, good, {}, next.jwk));
    assert.equal(notSignedByNew.status, 400, notSignedByNew.text);
    assert.match(String(notSignedByNew.json.detail), /signature/);

    // Nothing changed: the old key still acts for the account.
    const still = await old.post(old.kid ?? '', null);
    assert.equal(still.status, 200, still.text);
  });

  it('refuses a key another account holds with 409 and that account’s URL', async () => {
    const old = await registered();
    const other = await registered();
    const url = old.directory.keyChange ?? '';
    const r = await old.post(url, await inner(other, url, { account: old.kid, oldKey: old.jwk }));
    assert.equal(r.status, 409, r.text);
    assert.equal(r.headers.location, other.kid);
  });
});
