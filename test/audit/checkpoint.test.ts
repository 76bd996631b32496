import assert from 'node:assert/strict';
import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  AuditKeyError,
  auditKeyId,
  auditSigningKey,
  checkpointMessage,
  loadAuditKey,
  loadOrCreateAuditKey,
  signCheckpoint,
  verifyCheckpoint,
} from '../../src/audit/checkpoint.js';
import type { AuditCheckpoint } from '../../src/audit/types.js';

const HASH = 'ab'.repeat(32);
const AT = new Date('2030-06-01T12:00:00.000Z');

describe('audit signing key file', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'certmaster-audit-key-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('creates an Ed25519 key 0600 in a 0700 directory, and loads the same key afterwards', () => {
    const path = join(dir, 'fresh', 'secrets', 'audit.key');
    const created = loadOrCreateAuditKey(path);
    assert.equal(created.privateKey.asymmetricKeyType, 'ed25519');
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'fresh', 'secrets')).mode & 0o777, 0o700);
    assert.deepEqual(readdirSync(join(dir, 'fresh', 'secrets')), ['audit.key']);

    const again = loadOrCreateAuditKey(path);
    const loaded = loadAuditKey(path);
    assert.equal(again.keyId, created.keyId);
    assert.equal(loaded.keyId, created.keyId);
    const checkpoint = signCheckpoint(created, 7, HASH, AT, null);
    assert.ok(verifyCheckpoint(checkpoint, new Map([[loaded.keyId, loaded.publicKey]])));
  });

  it('derives the public key and its id (base64url SHA-256 of the SPKI) from the private key', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const key = auditSigningKey(privateKey);
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    assert.equal(key.keyId, createHash('sha256').update(spki).digest('base64url'));
    assert.equal(auditKeyId(createPublicKey(privateKey)), key.keyId);
    assert.ok(key.publicKey.equals(publicKey));
  });

  it('refuses a key file others may read, one that is not a key, and a missing one when only loading', () => {
    const open = join(dir, 'open.key');
    loadOrCreateAuditKey(open);
    chmodSync(open, 0o644);
    assert.throws(() => loadOrCreateAuditKey(open), /may be read by other users/);

    const garbage = join(dir, 'garbage.key');
    writeFileSync(garbage, 'not a key\n', { mode: 0o600 });
    assert.throws(() => loadOrCreateAuditKey(garbage), AuditKeyError);

    const rsa = join(dir, 'rsa.key');
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    writeFileSync(rsa, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    assert.throws(() => loadOrCreateAuditKey(rsa), /must be an Ed25519 private key/);

    assert.throws(() => loadAuditKey(join(dir, 'absent.key')), /there is no audit key/);
  });
});

describe('signed checkpoints', () => {
  const key = auditSigningKey(generateKeyPairSync('ed25519').privateKey);
  const keys = new Map([[key.keyId, key.publicKey]]);

  it('signs seq, hash, time and prune boundary, under the key id', () => {
    const checkpoint = signCheckpoint(key, 41, HASH, AT, 42);
    assert.deepEqual(
      { ...checkpoint, signature: undefined },
      { seq: 41, hash: HASH, at: AT, prunedBefore: 42, keyId: key.keyId, signature: undefined },
    );
    assert.match(checkpoint.signature, /^[A-Za-z0-9_-]{86}$/);
    assert.equal(
      checkpointMessage(41, HASH, AT, 42).toString('utf8'),
      `certmaster-audit-checkpoint/v1\nseq=41\nhash=${HASH}\nat=2030-06-01T12:00:00.000Z\npruned-before=42\n`,
    );
    assert.ok(verifyCheckpoint(checkpoint, keys));
  });

  it('fails verification when any signed field changes, or the key is not known', () => {
    const checkpoint = signCheckpoint(key, 41, HASH, AT, null);
    const altered: AuditCheckpoint[] = [
      { ...checkpoint, seq: 40 },
      { ...checkpoint, hash: 'cd'.repeat(32) },
      { ...checkpoint, at: new Date(AT.getTime() + 1) },
      { ...checkpoint, at: new Date(Number.NaN) },
      // A periodic checkpoint turned into a prune checkpoint would excuse deleting the records before it.
      { ...checkpoint, prunedBefore: 42 },
      // One bit of the signature flipped (replacing its last characters could leave the bytes as they
      // were: the last base64url character of 64 bytes carries only 4 of its 6 bits).
      { ...checkpoint, signature: flipBit(checkpoint.signature) },
      { ...checkpoint, signature: 'not base64url!' },
    ];
    for (const checkpointVariant of altered) {
      assert.equal(verifyCheckpoint(checkpointVariant, keys), false);
    }
    const stranger = auditSigningKey(generateKeyPairSync('ed25519').privateKey);
    assert.equal(verifyCheckpoint(checkpoint, new Map([[stranger.keyId, stranger.publicKey]])), false);
    assert.equal(
      verifyCheckpoint(
        { ...checkpoint, keyId: stranger.keyId },
        new Map([[stranger.keyId, stranger.publicKey]]),
      ),
      false,
    );
  });

  it('refuses to sign what cannot name a record', () => {
    assert.throws(() => signCheckpoint(key, 0, HASH, AT, null), RangeError);
    assert.throws(() => signCheckpoint(key, 1, 'AB'.repeat(32), AT, null), TypeError);
    assert.throws(() => signCheckpoint(key, 1, HASH, AT, 0), RangeError);
  });
});

function flipBit(signature: string): string {
  const bytes = Buffer.from(signature, 'base64url');
  bytes[10] = (bytes[10] ?? 0) ^ 1;
  return bytes.toString('base64url');
}
