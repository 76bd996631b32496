import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecretBox, SecretBoxError } from '../../src/auth/secret-box.js';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'certmaster-secret-box-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

function assertSecretBoxError(fn: () => unknown, code: SecretBoxError['code'], message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SecretBoxError, String(err));
    assert.equal(err.code, code);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** Flips one bit of the decoded body at `index` (negative counts from the end). */
function flipBit(sealed: string, index: number): string {
  const raw = Buffer.from(sealed.slice(3), 'base64url');
  const at = index < 0 ? raw.length + index : index;
  raw[at] = (raw[at] ?? 0) ^ 0x01;
  return `v1.${raw.toString('base64url')}`;
}

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, strings and bytes alike', () => {
    const sealed = box.seal('HA1 of alice', 'digest-ha1:alice');
    assert.match(sealed, /^v1\.[A-Za-z0-9_-]+$/);
    assert.doesNotMatch(sealed, /alice/);
    assert.equal(box.open(sealed, 'digest-ha1:alice').toString('utf8'), 'HA1 of alice');
    const key = randomBytes(64);
    assert.deepEqual(box.open(box.seal(key, 'jwt-key:1'), 'jwt-key:1'), key);
    assert.deepEqual(box.open(box.seal('', 'empty'), 'empty'), Buffer.alloc(0));
  });

  it('uses a fresh IV each time: iv(12) | ciphertext | tag(16)', () => {
    const a = box.seal('same', 'ctx');
    const b = box.seal('same', 'ctx');
    assert.notEqual(a, b);
    assert.equal(Buffer.from(a.slice(3), 'base64url').length, 12 + 4 + 16);
  });

  it('refuses a tampered IV, ciphertext or tag', () => {
    const sealed = box.seal('a secret worth stealing', 'ctx');
    for (const index of [0, 11, 12, 20, -16, -1]) {
      assertSecretBoxError(() => box.open(flipBit(sealed, index), 'ctx'), 'unauthentic');
    }
  });

  it('refuses the right value under the wrong context', () => {
    const sealed = box.seal('HA1 of alice', 'digest-ha1:alice');
    assertSecretBoxError(() => box.open(sealed, 'digest-ha1:mallory'), 'unauthentic', /another context/);
  });

  it('refuses a value sealed with another key', () => {
    const other = new SecretBox(randomBytes(32));
    assertSecretBoxError(() => other.open(box.seal('x', 'ctx'), 'ctx'), 'unauthentic');
  });

  it('refuses malformed input', () => {
    assertSecretBoxError(() => box.open('v2.AAAA', 'ctx'), 'malformed');
    assertSecretBoxError(() => box.open('v1.not base64!', 'ctx'), 'malformed');
    assertSecretBoxError(() => box.open('v1.AAAA', 'ctx'), 'malformed');
    assertSecretBoxError(() => box.open(`v1.${'A'.repeat(2_000_000)}`, 'ctx'), 'malformed');
  });

  it('derives stable, distinct 32-byte keys per purpose with HKDF-SHA256', () => {
    const key = randomBytes(32);
    const one = new SecretBox(key);
    const derived = one.deriveKey('digest-nonce');
    assert.equal(derived.length, 32);
    assert.deepEqual(new SecretBox(key).deriveKey('digest-nonce'), derived, 'same key file, same key');
    assert.notDeepEqual(one.deriveKey('other'), derived);
    assert.notDeepEqual(new SecretBox(randomBytes(32)).deriveKey('digest-nonce'), derived);
    assert.notDeepEqual(derived, key);
    const expected = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'certmaster/digest-nonce', 32));
    assert.deepEqual(derived, expected);
  });

  it('refuses a key that is not 32 bytes', () => {
    assertSecretBoxError(() => new SecretBox(randomBytes(16)), 'key_file');
  });
});

describe('SecretBox.loadOrCreate', () => {
  it('creates a 32-byte key file with mode 0600 and no temporary file left behind', () => {
    const sub = mkdtempSync(join(dir, 'create-'));
    const path = join(sub, 'secret.key');
    const box = SecretBox.loadOrCreate(path);
    const stat = statSync(path);
    assert.equal(stat.mode & 0o777, 0o600);
    assert.equal(stat.size, 32);
    assert.deepEqual(readdirSync(sub), ['secret.key']);
    const sealed = box.seal('survives a restart', 'ctx');
    assert.equal(SecretBox.loadOrCreate(path).open(sealed, 'ctx').toString(), 'survives a restart');
  });

  it('loads an existing key without changing it', () => {
    const path = join(dir, 'existing.key');
    const key = randomBytes(32);
    writeFileSync(path, key, { mode: 0o600 });
    const sealed = new SecretBox(key).seal('x', 'ctx');
    assert.equal(SecretBox.loadOrCreate(path).open(sealed, 'ctx').toString(), 'x');
    assert.deepEqual(readFileSync(path), key);
  });

  it('refuses a key file readable by group or others, saying to run chmod 600', () => {
    const path = join(dir, 'open.key');
    writeFileSync(path, randomBytes(32));
    chmodSync(path, 0o644);
    assertSecretBoxError(() => SecretBox.loadOrCreate(path), 'key_file', /chmod 600/);
    chmodSync(path, 0o640);
    assertSecretBoxError(() => SecretBox.loadOrCreate(path), 'key_file', /chmod 600/);
    chmodSync(path, 0o600);
    SecretBox.loadOrCreate(path);
  });

  it('refuses a key file of the wrong size', () => {
    const path = join(dir, 'short.key');
    writeFileSync(path, randomBytes(31), { mode: 0o600 });
    assertSecretBoxError(() => SecretBox.loadOrCreate(path), 'key_file', /31 bytes, not 32/);
  });

  it('refuses a directory where the key file should be', () => {
    const path = mkdtempSync(join(dir, 'not-a-file-'));
    chmodSync(path, 0o700);
    assertSecretBoxError(() => SecretBox.loadOrCreate(path), 'key_file', /not a regular file/);
  });
});
