/**
 * The signing key ring: one usable Ed25519 key after init, private keys sealed in the store,
 * rotation that keeps old tokens verifiable until removeAfter, and replicas that agree.
 */
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SecretBox } from '../../../src/auth/secret-box.js';
import { ROTATION_GRACE_SECONDS, SigningKeyRing } from '../../../src/auth/tokens/keyring.js';
import { type CertmasterStore, openStore } from '../../../src/store/open.js';
import { MovableClock } from '../../helpers/clock.js';

const TTL = 600;
let dir: string;
let count = 0;
const box = new SecretBox(randomBytes(32));

async function freshStore(): Promise<CertmasterStore> {
  count += 1;
  return openStore(`sqlite:${join(dir, `keys-${count}.db`)}`);
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'certmaster-keyring-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('SigningKeyRing', () => {
  test('init creates exactly one key, and a second init (another replica) reuses it', async () => {
    const store = await freshStore();
    try {
      const clock = new MovableClock(Date.UTC(2030, 0, 1));
      const ring = new SigningKeyRing(store, box, clock);
      await ring.init();
      const replica = new SigningKeyRing(store, box, clock);
      await replica.init();
      assert.equal((await store.listSigningKeys()).length, 1);
      assert.equal(replica.signingKey().kid, ring.signingKey().kid);
      const { keys } = ring.jwks();
      assert.equal(keys.length, 1);
      assert.deepEqual(Object.keys(keys[0] ?? {}).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      assert.equal(keys[0]?.alg, 'EdDSA');
      assert.equal(keys[0]?.use, 'sig');
      assert.equal(keys[0]?.kid, ring.signingKey().kid);
    } finally {
      await store.close();
    }
  });

  test('the private key is stored sealed under its kid and opens to the published public key', async () => {
    const store = await freshStore();
    try {
      const clock = new MovableClock(Date.UTC(2030, 0, 1));
      const ring = new SigningKeyRing(store, box, clock);
      await ring.init();
      const [record] = await store.listSigningKeys();
      assert.ok(record);
      assert.doesNotMatch(record.privateKeySealed, /PRIVATE KEY/);
      assert.throws(() => box.open(record.privateKeySealed, 'jwt-signing-key:another-kid'));
      const der = box.open(record.privateKeySealed, `jwt-signing-key:${record.kid}`);
      const publicJwk = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({
        format: 'jwk',
      });
      assert.equal(publicJwk.x, ring.jwks().keys[0]?.x);
      // A server with another secret-box key cannot sign with it.
      const stranger = new SigningKeyRing(store, new SecretBox(randomBytes(32)), clock);
      await stranger.reload();
      assert.throws(() => stranger.signingKey(), /does not open/);
    } finally {
      await store.close();
    }
  });

  test('rotate: the new key signs, the old one verifies until TTL + grace, then leaves the JWKS', async () => {
    const store = await freshStore();
    try {
      const clock = new MovableClock(Date.UTC(2030, 0, 1));
      const ring = new SigningKeyRing(store, box, clock);
      await ring.init();
      const oldKid = ring.signingKey().kid;
      const newKid = await ring.rotate(TTL);
      assert.notEqual(newKid, oldKid);
      assert.equal(ring.signingKey().kid, newKid);
      assert.deepEqual(
        ring.jwks().keys.map((k) => k.kid),
        [newKid, oldKid],
      );
      assert.ok(await ring.verificationKey(oldKid));

      clock.advance(TTL + ROTATION_GRACE_SECONDS - 1);
      assert.ok(await ring.verificationKey(oldKid));
      assert.equal(ring.jwks().keys.length, 2);

      clock.advance(1);
      assert.equal(await ring.verificationKey(oldKid), null);
      assert.deepEqual(
        ring.jwks().keys.map((k) => k.kid),
        [newKid],
      );
      assert.ok(await ring.verificationKey(newKid));
    } finally {
      await store.close();
    }
  });

  test('a replica that has not reloaded learns a rotated key when it meets the new kid', async () => {
    const store = await freshStore();
    try {
      const clock = new MovableClock(Date.UTC(2030, 0, 1));
      const ring = new SigningKeyRing(store, box, clock);
      await ring.init();
      const replica = new SigningKeyRing(store, box, clock);
      await replica.init();
      clock.advance(10);
      const newKid = await ring.rotate(TTL);
      assert.ok(await replica.verificationKey(newKid));
      // Its periodic reload then moves its signing to the new key as well.
      await replica.reload();
      assert.equal(replica.signingKey().kid, newKid);
      assert.equal(await replica.verificationKey('no-such-kid'), null);
    } finally {
      await store.close();
    }
  });

  test('with every key retired nothing signs, and init makes a usable key again', async () => {
    const store = await freshStore();
    try {
      const clock = new MovableClock(Date.UTC(2030, 0, 1));
      const ring = new SigningKeyRing(store, box, clock);
      await ring.init();
      const kid = ring.signingKey().kid;
      await store.retireSigningKey(kid, clock.now(), new Date(clock.now().getTime() + 3600_000));
      await ring.reload();
      assert.throws(() => ring.signingKey(), /no signing key is usable/);
      await ring.init();
      assert.notEqual(ring.signingKey().kid, kid);
      assert.equal(ring.jwks().keys.length, 2);
    } finally {
      await store.close();
    }
  });

  test('rotate refuses a lifetime that is not a positive whole number of seconds', async () => {
    const store = await freshStore();
    try {
      const ring = new SigningKeyRing(store, box, new MovableClock(Date.UTC(2030, 0, 1)));
      await ring.init();
      await assert.rejects(ring.rotate(0), RangeError);
      await assert.rejects(ring.rotate(1.5), RangeError);
      assert.equal((await store.listSigningKeys()).length, 1);
    } finally {
      await store.close();
    }
  });
});
