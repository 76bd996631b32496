/**
 * Each enroller over a real SQLite store: what it decides for its kind of caller, and (for
 * enrollment tokens) that issuance spends exactly the token's uses, even in parallel.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, beforeEach, describe, test } from 'node:test';
import { userPrincipal } from '../../src/auth/authenticator.js';
import { OpaqueTokens } from '../../src/auth/tokens/opaque-tokens.js';
import { parseAutosign } from '../../src/domain/autosign.js';
import { AutosignEnroller } from '../../src/ra/enrollers/autosign.js';
import { EnrollmentTokenEnroller } from '../../src/ra/enrollers/enrollment-token.js';
import { HostAccountEnroller } from '../../src/ra/enrollers/host-account.js';
import { defaultEnrollers } from '../../src/ra/enrollers/index.js';
import { OperatorEnroller } from '../../src/ra/enrollers/operator.js';
import { PolicyFailure } from '../../src/ra/failure.js';
import { type CertmasterStore, openStore } from '../../src/store/open.js';
import { ANONYMOUS, type Role } from '../../src/types.js';
import { MovableClock } from '../helpers/clock.js';

const SOME_HASH = '$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$c29tZWhhc2hzb21laGFzaHNvbWVoYXNoc29tZWhhc2g';
const dir = mkdtempSync(join(tmpdir(), 'certmaster-enrollers-'));
const context = { autosign: parseAutosign('*.auto.example.com') };
let store: CertmasterStore;
let clock: MovableClock;
let tokens: OpaqueTokens;
let count = 0;

async function addUser(name: string, role: Role, namePatterns: string[] = []) {
  const now = clock.now();
  const user = {
    name,
    role,
    passwordHash: SOME_HASH,
    digestSecrets: null,
    disabled: false,
    namePatterns,
    createdAt: now,
    updatedAt: now,
    passwordChangedAt: now,
  };
  await store.createUser(user);
  const stored = await store.getUser(name);
  assert.ok(stored);
  return stored;
}

beforeEach(async () => {
  count += 1;
  store = await openStore(`sqlite:${join(dir, `enrollers-${count}.db`)}`);
  clock = new MovableClock(Date.UTC(2030, 0, 1, 12));
  tokens = new OpaqueTokens({ store, clock });
});
afterEach(async () => store.close());
after(() => rmSync(dir, { recursive: true, force: true }));

describe('autosign enroller (anonymous)', () => {
  test('signs what ra.autosign covers and queues the rest', async () => {
    const e = new AutosignEnroller();
    assert.deepEqual(await e.authorizeSign(ANONYMOUS, ['a.auto.example.com'], context), {
      kind: 'sign',
      decidedBy: 'autosign',
      via: 'autosign',
    });
    assert.deepEqual(await e.authorizeSign(ANONYMOUS, ['a.other.example.com'], context), { kind: 'queue' });
    assert.equal(defaultEnrollers({ enrollmentUses: store, clock }).forPrincipal(ANONYMOUS).kind, 'autosign');
  });
});

describe('operator enroller', () => {
  test('signs any names for admins and operators, under their own name', async () => {
    const registry = defaultEnrollers({ enrollmentUses: store, clock });
    for (const role of ['admin', 'operator'] as const) {
      const principal = userPrincipal(await addUser(`op-${role}`, role), 'basic');
      const e = registry.forPrincipal(principal);
      assert.equal(e.kind, 'operator');
      assert.ok(e instanceof OperatorEnroller);
      assert.deepEqual(await e.authorizeSign(principal, ['anything.example.org'], context), {
        kind: 'sign',
        decidedBy: `identity:op-${role}`,
        via: 'identity',
      });
    }
  });
});

describe('host account enroller', () => {
  test('signs its own names, refuses others, and leaves accounts without names to autosign', async () => {
    const registry = defaultEnrollers({ enrollmentUses: store, clock });
    const host = userPrincipal(await addUser('web01', 'host', ['web01.example.com']), 'digest');
    const e = registry.forPrincipal(host);
    assert.ok(e instanceof HostAccountEnroller);
    assert.deepEqual(await e.authorizeSign(host, ['web01.example.com'], context), {
      kind: 'sign',
      decidedBy: 'identity:web01',
      via: 'identity',
    });
    const refused = await e.authorizeSign(host, ['web02.example.com'], context);
    assert.equal(refused.kind, 'refuse');
    assert.ok(refused.kind === 'refuse' && refused.reason === 'name_not_allowed');
    assert.match(
      refused.kind === 'refuse' ? refused.detail : '',
      /web01 may obtain certificates only for web01\.example\.com/,
    );

    const viewer = userPrincipal(await addUser('vera', 'auditor'), 'basic');
    assert.equal(registry.forPrincipal(viewer).kind, 'host_account');
    assert.equal((await e.authorizeSign(viewer, ['x.auto.example.com'], context)).kind, 'sign');
    assert.deepEqual(await e.authorizeSign(viewer, ['x.example.org'], context), { kind: 'queue' });
  });
});

describe('enrollment token enroller', () => {
  test('signs the token pattern, refuses others, and spends one use per issuance', async () => {
    await addUser('olga', 'operator');
    const { token } = await tokens.create({
      kind: 'enrollment',
      owner: 'olga',
      namePattern: '*.web.example.com',
      uses: 2,
    });
    const principal = await tokens.authenticate(token);
    const e = defaultEnrollers({ enrollmentUses: store, clock }).forPrincipal(principal);
    assert.ok(e instanceof EnrollmentTokenEnroller);
    assert.equal((await e.authorizeSign(principal, ['a.web.example.com'], context)).kind, 'sign');
    assert.equal((await e.authorizeSign(principal, ['a.example.org'], context)).kind, 'refuse');
    await e.onIssued?.(principal);
    await e.onIssued?.(principal);
    await assert.rejects(
      async () => e.onIssued?.(principal),
      (err) => err instanceof PolicyFailure && err.reason === 'enrollment_token_used_up',
    );
  });

  test('parallel issuances on a one-use token spend it once', async () => {
    await addUser('olga', 'operator');
    const { token } = await tokens.create({
      kind: 'enrollment',
      owner: 'olga',
      namePattern: '*.web.example.com',
      uses: 1,
    });
    const principal = await tokens.authenticate(token);
    const e = new EnrollmentTokenEnroller(store, clock);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => e.onIssued(principal)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
  });

  test('a principal without a token id is refused (fail closed)', async () => {
    const e = new EnrollmentTokenEnroller(store, clock);
    const { token: _omitted, ...noToken } = {
      ...ANONYMOUS,
      anonymous: false,
      method: 'enrollment_token' as const,
    };
    await assert.rejects(
      async () => e.onIssued(noToken),
      (err) => err instanceof PolicyFailure && err.reason === 'enrollment_token_used_up',
    );
  });
});
