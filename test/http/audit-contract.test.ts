/**
 * The audit side of the refusal contract: every reason code a caller can meet over real HTTPS leaves
 * an audit record under the X-Request-Id the caller saw, with the precise cause the caller was not
 * told, what it was told, and its address, and never a secret it sent. `explainRequest` then reads
 * those records back as an operator would, naming the cause and a fix. Successes are recorded too:
 * a Basic sign-in, an anonymous autosigned submission, and an operator's approval.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditRecord } from '../../src/audit/types.js';
import { createAccount } from '../../src/auth/accounts.js';
import { ROLE_SCOPES } from '../../src/auth/scopes.js';
import { API_TOKEN_PREFIX, newSecretToken } from '../../src/auth/tokens/token-secrets.js';
import { CLI_CLIENT_ID } from '../../src/client/api.js';
import {
  auditRecordsFromJson,
  type CommandContext,
  explainRequest,
  renderRequestStory,
  requestStory,
} from '../../src/ops/explain/index.js';
import type { Role } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';
import {
  answerDigest,
  assertChallenges,
  assertProblem,
  basicAuthorization,
  type HttpsReply,
  loopbackAddresses,
  postForm,
  send,
} from './front-door-client.js';

const REALM = 'certmaster';
const WHOAMI = '/v1/whoami';
const clock = new MovableClock(Date.now());
const nextAddress = loopbackAddresses(20);
const tmp = tempDir('audit-contract');

const ADMIN = { name: 'chief', password: 'Quarry-Lantern-5521-velvet', digest: true };
const OPERATOR = { name: 'alice', password: 'Tangerine-Orbit-7741-quasar' };
const AUDITOR = { name: 'audra', password: 'Marble-Comet-3390-willow' };
const DISABLED = { name: 'dormant', password: 'Harbor-Falcon-8812-thistle' };
const WRONG_PASSWORD = 'Not-The-Password-4410-juniper';
const UNKNOWN_USER = 'nobody-here';
const AUTOSIGNED = 'auto.example.com';

let srv: TestServer;
let ctx: CommandContext;

/** Every secret any test sent: at the end, none may be anywhere in the audit log. */
const sentSecrets = new Set<string>();

function secret(value: string): string {
  assert.ok(value.length >= 12, `a secret long enough to search for: ${value}`);
  sentSecrets.add(value);
  return value;
}

before(async () => {
  srv = await startTestServer({ 'ra.autosign': `*.${AUTOSIGNED}` }, { clock, admin: ADMIN });
  const accounts = srv.frontDoor.accounts;
  await createAccount(accounts, { ...OPERATOR, role: 'operator', digest: true });
  await createAccount(accounts, { ...AUDITOR, role: 'auditor', digest: false });
  await createAccount(accounts, { ...DISABLED, role: 'operator', digest: true });
  await srv.instance.store.updateUser(DISABLED.name, { disabled: true }, clock.now());
  ctx = { dataDir: srv.dataDir, server: srv.url };
  for (const account of [ADMIN, OPERATOR, AUDITOR, DISABLED]) secret(account.password);
  secret(WRONG_PASSWORD);
});

after(async () => {
  await srv.close();
  tmp.remove();
});

function get(
  path: string,
  authorization: string | undefined,
  localAddress: string,
  method = 'GET',
): Promise<HttpsReply> {
  return send(`${srv.url}${path}`, {
    ca: srv.caPem,
    method,
    headers: authorization === undefined ? {} : { authorization },
    localAddress,
  });
}

function whoami(authorization: string | undefined, localAddress: string): Promise<HttpsReply> {
  return get(WHOAMI, authorization, localAddress);
}

/** A Basic header, remembered (with its base64 form) as a secret. */
function basic(user: string, password: string): string {
  const header = basicAuthorization(user, password);
  secret(password);
  secret(header.slice('Basic '.length));
  return header;
}

function bearer(token: string): string {
  return `Bearer ${secret(token)}`;
}

async function accessToken(
  subject: string,
  role: Role,
  options: { ttlSeconds?: number; notBefore?: Date } = {},
): Promise<{ token: string; jti: string }> {
  const issued = await srv.frontDoor.accessTokens.issue({
    subject,
    clientId: CLI_CLIENT_ID,
    scopes: [...ROLE_SCOPES[role]],
    roles: [role],
    familyId: null,
    ttlSeconds: options.ttlSeconds ?? 900,
    ...(options.notBefore ? { notBefore: options.notBefore } : {}),
  });
  secret(issued.token);
  return { token: issued.token, jti: issued.jti };
}

function requestIdOf(reply: HttpsReply): string {
  const id = reply.headers['x-request-id'];
  assert.equal(typeof id, 'string', 'every answer carries X-Request-Id');
  return id as string;
}

async function recordsOf(requestId: string): Promise<AuditRecord[]> {
  return srv.instance.store.queryAudit({ requestId });
}

function assertNoSecret(text: string, secrets: readonly string[], where: string): void {
  for (const s of secrets) assert.ok(!text.includes(s), `${where} holds a secret the caller sent: ${s}`);
}

interface ExpectedRefusal {
  reason: string;
  /** The precise internal cause, exactly or by pattern. */
  cause: string | RegExp;
  address: string;
  /** Every secret the request carried. */
  secrets: string[];
  /** What the explanation must say: the cause is checked too. */
  explains: RegExp[];
}

/**
 * The caller's refusal is in the audit log under its request id, with the cause, what it was told
 * and its address, and no secret; `explainRequest` names the cause and a fix. Returns the record.
 */
async function assertRefusalAudited(reply: HttpsReply, expected: ExpectedRefusal): Promise<AuditRecord> {
  const requestId = requestIdOf(reply);
  assert.equal(reply.json.request_id, requestId);
  const records = await recordsOf(requestId);
  assert.ok(records.length > 0, `records for request ${requestId}`);
  for (const r of records) assert.equal(r.requestId, requestId);
  const refusals = records.filter((r) => r.outcome === 'failure' && r.reason === expected.reason);
  assert.equal(
    refusals.length,
    1,
    `one ${expected.reason} failure among ${JSON.stringify(records.map((r) => [r.kind, r.outcome, r.reason]))}`,
  );
  const record = refusals[0] as AuditRecord;
  assert.equal(record.kind, reply.status === 403 ? 'authz.refused' : 'auth.attempt');
  assert.equal(record.phase, 'decision');
  if (typeof expected.cause === 'string') assert.equal(record.cause, expected.cause);
  else assert.match(record.cause ?? '', expected.cause);
  assert.deepEqual(record.told, {
    status: reply.status,
    detail: reply.json.detail,
    hint: reply.json.hint,
  });
  assert.equal(record.clientAddress, expected.address);
  assert.match(record.target ?? '', /^[A-Z]+ \//, 'the route asked for');
  assertNoSecret(JSON.stringify(records), expected.secrets, 'the audit records');

  const story = await explainRequest(srv.instance.store, requestId, ctx);
  assert.ok(story, `a story for ${requestId}`);
  assert.equal(story.decisive.seq, record.seq, 'the refusal decides the story');
  const text = renderRequestStory(story);
  assert.ok(text.includes(record.cause ?? '\u0000'), `the explanation names the cause: ${text}`);
  assert.ok(text.includes(expected.address), `the explanation names the address: ${text}`);
  for (const pattern of expected.explains) assert.match(text, pattern);
  assert.ok(story.advice, 'advice for a refusal');
  assertNoSecret(text, expected.secrets, 'the explanation');
  return record;
}

describe('every refusal is audited under the request id the caller saw', () => {
  test('credentials_missing: no credentials on a protected route', async () => {
    const address = nextAddress();
    const reply = await get('/v1/certificates', undefined, address);
    assertProblem(reply, 401, 'credentials_missing');
    const record = await assertRefusalAudited(reply, {
      reason: 'credentials_missing',
      cause: 'no credentials',
      address,
      secrets: [],
      explains: [/certmaster login --server/, /Authorization: Bearer/],
    });
    assert.equal(record.target, 'GET /v1/certificates');
    assert.equal(record.principal, null);
  });

  test('scheme_unsupported: Negotiate', async () => {
    const address = nextAddress();
    const negotiate = secret('YIIGhgYJKoZIhvcSAQICAQBuggZ1MIIGcaADAgEF');
    const reply = await whoami(`Negotiate ${negotiate}`, address);
    assertProblem(reply, 401, 'scheme_unsupported');
    await assertRefusalAudited(reply, {
      reason: 'scheme_unsupported',
      cause: 'scheme Negotiate not enabled',
      address,
      secrets: [negotiate],
      explains: [/Negotiate/, /schemes this server accepted then: Bearer, Digest or Basic/],
    });
  });

  test('scheme_unsupported: a token sent without "Bearer" is neither recorded nor echoed', async () => {
    const address = nextAddress();
    const token = secret(newSecretToken(API_TOKEN_PREFIX));
    const reply = await whoami(token, address);
    assertProblem(reply, 401, 'scheme_unsupported');
    assert.ok(!reply.text.includes(token));
    await assertRefusalAudited(reply, {
      reason: 'scheme_unsupported',
      cause: `scheme an unregistered scheme of ${token.length} characters not enabled`,
      address,
      secrets: [token],
      explains: [/Authorization: Bearer TOKEN/],
    });
  });

  test('credentials_malformed: Basic credentials without a colon', async () => {
    const address = nextAddress();
    const inner = secret('OnlyAPasswordAndNoUserName-5581');
    const token68 = secret(Buffer.from(inner, 'utf8').toString('base64'));
    const reply = await whoami(`Basic ${token68}`, address);
    assertProblem(reply, 401, 'credentials_malformed');
    await assertRefusalAudited(reply, {
      reason: 'credentials_malformed',
      cause: /^malformed Basic credentials: /,
      address,
      secrets: [inner, token68],
      explains: [/does not parse/, /Fix the client/],
    });
  });

  test('credentials_malformed: a Digest response lacking its fields', async () => {
    const address = nextAddress();
    const reply = await whoami(`Digest username="${OPERATOR.name}", realm="${REALM}"`, address);
    assertProblem(reply, 401, 'credentials_malformed');
    const record = await assertRefusalAudited(reply, {
      reason: 'credentials_malformed',
      cause: /^malformed Digest response: .*lack/,
      address,
      secrets: [],
      explains: [/Fix the client/],
    });
    assert.equal(record.method, 'digest');
  });

  test('credentials_invalid: an unknown user', async () => {
    const address = nextAddress();
    const header = basic(UNKNOWN_USER, WRONG_PASSWORD);
    const reply = await whoami(header, address);
    assertProblem(reply, 401, 'credentials_invalid');
    const record = await assertRefusalAudited(reply, {
      reason: 'credentials_invalid',
      cause: `unknown user ${UNKNOWN_USER}`,
      address,
      secrets: [WRONG_PASSWORD, header.slice('Basic '.length)],
      explains: [/no account named nobody-here/, /certmaster user add nobody-here/],
    });
    assert.equal(record.claimedName, UNKNOWN_USER);
    assert.equal(record.principal, null);
    assert.equal(record.method, 'basic');
  });

  test('credentials_invalid: a wrong password for an account that exists', async () => {
    const address = nextAddress();
    const header = basic(OPERATOR.name, WRONG_PASSWORD);
    const reply = await whoami(header, address);
    assertProblem(reply, 401, 'credentials_invalid');
    const record = await assertRefusalAudited(reply, {
      reason: 'credentials_invalid',
      cause: 'password mismatch',
      address,
      secrets: [WRONG_PASSWORD, header.slice('Basic '.length)],
      explains: [/the password sent was wrong/, /certmaster user passwd alice --data /],
    });
    assert.equal(record.claimedName, OPERATOR.name);
    assert.equal(record.principal, null);
  });

  test('credentials_invalid: a Digest response made with a wrong password', async () => {
    const address = nextAddress();
    const fresh = assertChallenges(await whoami(undefined, address), { realm: REALM });
    const answer = answerDigest(
      fresh,
      { user: OPERATOR.name, password: WRONG_PASSWORD },
      { method: 'GET', uri: WHOAMI },
    );
    secret(answer.response);
    const reply = await whoami(answer.header, address);
    assertProblem(reply, 401, 'credentials_invalid');
    const record = await assertRefusalAudited(reply, {
      reason: 'credentials_invalid',
      cause: 'digest response mismatch (wrong password)',
      address,
      secrets: [WRONG_PASSWORD, answer.response],
      explains: [/the password was wrong/, /certmaster user passwd alice --digest/],
    });
    assert.equal(record.claimedName, OPERATOR.name, 'the account the userhash named');
    assert.equal(record.method, 'digest');
  });

  test('account_disabled: the right password of a disabled account', async () => {
    const address = nextAddress();
    const header = basic(DISABLED.name, DISABLED.password);
    const reply = await whoami(header, address);
    assertProblem(reply, 401, 'account_disabled');
    await assertRefusalAudited(reply, {
      reason: 'account_disabled',
      cause: `account ${DISABLED.name} is disabled`,
      address,
      secrets: [DISABLED.password, header.slice('Basic '.length)],
      explains: [/certmaster user enable dormant/],
    });
  });

  test('nonce_stale: a right Digest response to an expired nonce', async () => {
    const address = nextAddress();
    const fresh = assertChallenges(await whoami(undefined, address), { realm: REALM });
    const answer = answerDigest(
      fresh,
      { user: OPERATOR.name, password: OPERATOR.password },
      { method: 'GET', uri: WHOAMI },
    );
    secret(answer.response);
    clock.advance(srv.instance.config().auth.nonce_lifetime_seconds + 1);
    const reply = await whoami(answer.header, address);
    assertProblem(reply, 401, 'nonce_stale');
    const record = await assertRefusalAudited(reply, {
      reason: 'nonce_stale',
      cause: 'digest nonce past its lifetime',
      address,
      secrets: [OPERATOR.password, answer.response],
      explains: [/stale=true/, /auth\.nonce_lifetime_seconds/],
    });
    assert.equal(record.claimedName, OPERATOR.name);
  });

  test('token_expired: an access token past its exp names its jti', async () => {
    const { token, jti } = await accessToken(OPERATOR.name, 'operator', { ttlSeconds: 900 });
    const address = nextAddress();
    assert.equal((await whoami(bearer(token), address)).status, 200);
    clock.advance(901);
    const reply = await whoami(bearer(token), address);
    assertProblem(reply, 401, 'token_expired');
    const record = await assertRefusalAudited(reply, {
      reason: 'token_expired',
      cause: new RegExp(`^access token jti ${jti} of alice expired at `),
      address,
      secrets: [token],
      explains: [/refreshes/, /certmaster login --server .* --user alice/],
    });
    assert.equal(record.claimedName, OPERATOR.name);
    assert.equal(record.method, 'bearer');
  });

  test('token_not_yet_valid: an access token whose nbf is an hour ahead names its jti', async () => {
    const notBefore = new Date(clock.now().getTime() + 3600_000);
    const { token, jti } = await accessToken(OPERATOR.name, 'operator', { ttlSeconds: 7200, notBefore });
    const address = nextAddress();
    const reply = await whoami(bearer(token), address);
    assertProblem(reply, 401, 'token_not_yet_valid');
    await assertRefusalAudited(reply, {
      reason: 'token_not_yet_valid',
      cause: new RegExp(`^access token jti ${jti} used 3600 s before its nbf$`),
      address,
      secrets: [token],
      explains: [/clock skew/, /NTP/],
    });
  });

  describe('token_revoked', () => {
    test('an API token revoked in the store names its token id', async () => {
      const { token, record: tokenRecord } = await srv.frontDoor.opaqueTokens.create({
        kind: 'api',
        owner: OPERATOR.name,
        scopes: ['requests:read'],
      });
      const address = nextAddress();
      assert.equal((await whoami(bearer(token), address)).status, 200);
      await srv.instance.store.revokeToken(tokenRecord.id, clock.now());
      const reply = await whoami(bearer(token), address);
      assertProblem(reply, 401, 'token_revoked');
      await assertRefusalAudited(reply, {
        reason: 'token_revoked',
        cause: new RegExp(`^token ${tokenRecord.id} revoked at `),
        address,
        secrets: [token],
        explains: [new RegExp(`The token ${tokenRecord.id} was revoked`), /certmaster token create/],
      });
    });

    test('an access token revoked at /oauth/revoke names its jti', async () => {
      const { token, jti } = await accessToken(OPERATOR.name, 'operator');
      const address = nextAddress();
      const revoked = await postForm(
        `${srv.url}/oauth/revoke`,
        srv.caPem,
        { token },
        { localAddress: address },
      );
      assert.equal(revoked.status, 200, revoked.text);
      const reply = await whoami(bearer(token), address);
      assertProblem(reply, 401, 'token_revoked');
      const record = await assertRefusalAudited(reply, {
        reason: 'token_revoked',
        cause: new RegExp(`^access token jti ${jti} revoked at `),
        address,
        secrets: [token],
        explains: [/Sign in again/, /certmaster login --server .* --user alice/],
      });
      assert.equal(record.claimedName, OPERATOR.name);
      // The revocation itself is audited under its own request id, without the token either.
      const revocation = await recordsOf(requestIdOf(revoked));
      assert.ok(
        revocation.some((r) => r.kind === 'oauth.revoke'),
        JSON.stringify(revocation),
      );
      assertNoSecret(JSON.stringify(revocation), [token], 'the revocation records');
    });
  });

  describe('token_invalid', () => {
    test('a JWT whose signature was tampered with', async () => {
      const { token } = await accessToken(OPERATOR.name, 'operator');
      const [header, payload, signature = ''] = token.split('.');
      const middle = Math.floor(signature.length / 2);
      const flipped = signature[middle] === 'A' ? 'B' : 'A';
      const tampered = `${header}.${payload}.${signature.slice(0, middle)}${flipped}${signature.slice(middle + 1)}`;
      const address = nextAddress();
      const reply = await whoami(bearer(tampered), address);
      assertProblem(reply, 401, 'token_invalid');
      await assertRefusalAudited(reply, {
        reason: 'token_invalid',
        cause: 'signature verification failed',
        address,
        secrets: [tampered, signature],
        explains: [/signature does not verify/, /certmaster login --server/],
      });
    });

    test('an API token this server never made', async () => {
      const token = newSecretToken(API_TOKEN_PREFIX);
      const address = nextAddress();
      const reply = await whoami(bearer(token), address);
      assertProblem(reply, 401, 'token_invalid');
      await assertRefusalAudited(reply, {
        reason: 'token_invalid',
        cause: 'no API or enrollment token has this hash',
        address,
        secrets: [token],
        explains: [/not one this certmaster made/, /certmaster token create/],
      });
    });
  });

  test('insufficient_scope: the record names the scope and the token', async () => {
    const { token, record: tokenRecord } = await srv.frontDoor.opaqueTokens.create({
      kind: 'api',
      owner: OPERATOR.name,
      scopes: ['requests:read'],
    });
    const address = nextAddress();
    const reply = await get('/v1/certificates', bearer(token), address);
    assertProblem(reply, 403, 'insufficient_scope');
    const record = await assertRefusalAudited(reply, {
      reason: 'insufficient_scope',
      cause: 'token lacks certificates:read; has requests:read',
      address,
      secrets: [token],
      explains: [/"certificates:read"/, /certmaster token create --scope certificates:read/],
    });
    assert.equal(record.principal, OPERATOR.name);
    assert.equal(record.method, 'api_token');
    assert.equal(record.credentialId, tokenRecord.id);
    // The typed cause (issue 7) names the token's owner, so explain can advise a token for that account.
    assert.deepEqual(record.details, {
      scope: 'certificates:read',
      cause: { code: 'scope_missing', owner: 'alice', scope: 'certificates:read', has: ['requests:read'] },
    });
    // The same request's successful authentication came first.
    const all = await recordsOf(record.requestId);
    assert.deepEqual(
      all.map((r) => [r.kind, r.outcome]),
      [
        ['auth.attempt', 'success'],
        ['authz.refused', 'failure'],
      ],
    );
  });

  test('forbidden: an auditor may not approve; the record names who and what it lacked', async () => {
    const address = nextAddress();
    const header = basic(AUDITOR.name, AUDITOR.password);
    const reply = await get('/v1/requests/x/approve', header, address, 'POST');
    assertProblem(reply, 403, 'forbidden');
    const record = await assertRefusalAudited(reply, {
      reason: 'forbidden',
      cause: 'role lacks requests:approve',
      address,
      secrets: [AUDITOR.password, header.slice('Basic '.length)],
      explains: [/its role does not allow this/, /"requests:approve"/, /--role operator/],
    });
    assert.equal(record.principal, AUDITOR.name);
    assert.equal(record.method, 'basic');
    assert.equal(record.target, 'POST /v1/requests/:id/approve');
  });

  test('too_many_attempts: the throttle is recorded with the address it throttled', async () => {
    const attacker = nextAddress();
    const limit = srv.instance.config().auth.throttle_free_failures;
    let reply: HttpsReply | undefined;
    const passwords: string[] = [];
    for (let attempt = 0; attempt < limit + 5; attempt++) {
      const password = `${WRONG_PASSWORD}-${attempt}`;
      passwords.push(password);
      reply = await whoami(basic(OPERATOR.name, password), attacker);
      if (reply.status !== 401) break;
    }
    assert.ok(reply);
    assertProblem(reply, 429, 'too_many_attempts');
    const record = await assertRefusalAudited(reply, {
      reason: 'too_many_attempts',
      cause: new RegExp(`^throttled ${attacker.replace(/\./g, '\\.')} for alice for \\d+ s$`),
      address: attacker,
      secrets: passwords,
      explains: [/Too many failed attempts came from/, /Retry-After/],
    });
    assert.equal(record.claimedName, OPERATOR.name);
    // Every failure before the throttle is in the log too, each with its own cause.
    const failures = await srv.instance.store.queryAudit({
      reason: 'credentials_invalid',
      newestFirst: true,
      limit: 1000,
    });
    assert.equal(failures.filter((r) => r.clientAddress === attacker).length, limit);
  });
});

describe('successes are audited too', () => {
  test('a Basic sign-in leaves an auth.attempt success', async () => {
    const address = nextAddress();
    const header = basic(OPERATOR.name, OPERATOR.password);
    const reply = await whoami(header, address);
    assert.equal(reply.status, 200, reply.text);
    const records = await recordsOf(requestIdOf(reply));
    assert.equal(records.length, 1, JSON.stringify(records));
    const record = records[0] as AuditRecord;
    assert.equal(record.kind, 'auth.attempt');
    assert.equal(record.outcome, 'success');
    assert.equal(record.reason, null);
    assert.equal(record.principal, OPERATOR.name);
    assert.equal(record.method, 'basic');
    assert.equal(record.clientAddress, address);
    assert.equal(record.target, `GET ${WHOAMI}`);
    assertNoSecret(JSON.stringify(records), [OPERATOR.password, header.slice('Basic '.length)], 'the record');
  });

  test('an anonymous autosigned submission leaves request.submit request and response records', async () => {
    const address = nextAddress();
    const cn = `web1.${AUTOSIGNED}`;
    const { csrPem } = opensslCsr(tmp.path, 'web1', `/CN=${cn}`);
    const reply = await send(`${srv.url}/v1/requests`, {
      ca: srv.caPem,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csr: csrPem }),
      localAddress: address,
    });
    assert.equal(reply.status, 201, reply.text);
    assert.equal(reply.json.state, 'issued');
    const serial = reply.json.serial;
    assert.equal(typeof serial, 'string');

    const records = await recordsOf(requestIdOf(reply));
    assert.deepEqual(
      records.map((r) => [r.kind, r.phase, r.outcome]),
      [
        ['request.submit', 'request', 'success'],
        ['request.submit', 'response', 'success'],
      ],
    );
    for (const r of records) {
      assert.equal(r.principal, 'anonymous');
      assert.equal(r.method, 'anonymous');
      assert.equal(r.clientAddress, address);
    }
    const response = records[1] as AuditRecord;
    assert.equal(response.target, cn);
    assert.equal(response.details.serial, serial);
    assert.equal(response.details.request_id, reply.json.id);
    assert.equal(response.details.state, 'issued');
    assert.equal(response.details.decided_by, 'autosign');

    const story = await explainRequest(srv.instance.store, requestIdOf(reply), ctx);
    assert.ok(story);
    assert.equal(story.advice, null);
    const text = renderRequestStory(story);
    assert.match(text, /succeeded/);
    assert.ok(text.includes(String(serial)), text);
  });

  test('an operator approving over the API leaves request.approve records by that operator', async () => {
    const cn = 'db1.manual.example.com';
    const { csrPem } = opensslCsr(tmp.path, 'db1', `/CN=${cn}`);
    const submitted = await send(`${srv.url}/v1/requests`, {
      ca: srv.caPem,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ csr: csrPem }),
      localAddress: nextAddress(),
    });
    assert.equal(submitted.status, 201, submitted.text);
    assert.equal(submitted.json.state, 'pending');
    const id = String(submitted.json.id);

    const address = nextAddress();
    const { token, jti } = await accessToken(OPERATOR.name, 'operator');
    const approved = await get(`/v1/requests/${id}/approve`, bearer(token), address, 'POST');
    assert.equal(approved.status, 200, approved.text);
    const certificate = approved.json.certificate as { serial?: unknown } | undefined;
    const serial = certificate?.serial;
    assert.equal(typeof serial, 'string');

    const records = await recordsOf(requestIdOf(approved));
    assert.deepEqual(
      records.map((r) => [r.kind, r.phase, r.outcome]),
      [
        ['auth.attempt', 'decision', 'success'],
        ['request.approve', 'request', 'success'],
        ['request.approve', 'response', 'success'],
      ],
    );
    for (const r of records) {
      assert.equal(r.principal, OPERATOR.name);
      assert.equal(r.method, 'access_token');
      assert.equal(r.credentialId, jti);
      assert.equal(r.clientAddress, address);
    }
    assert.equal(records[1]?.target, id);
    assert.equal(records[2]?.target, cn);
    assert.equal(records[2]?.details.serial, serial);
    assert.equal(records[2]?.details.request_id, id);
    assertNoSecret(JSON.stringify(records), [token], 'the approval records');
    const stored = await srv.instance.store.getRequest(id);
    assert.equal(stored?.decidedBy, OPERATOR.name);
  });
});

describe('what a caller sends is bounded before it is recorded', () => {
  /** Longer than an audit text field may be (4096), well within the 16 KiB of headers a request may have. */
  const longPath = `/no/such/route/${'a'.repeat(6000)}`;

  test('a wrong password at a long URL no route matches is still a recorded 401, not a 503', async () => {
    const address = nextAddress();
    const header = basic(OPERATOR.name, WRONG_PASSWORD);
    const reply = await get(longPath, header, address);
    assertProblem(reply, 401, 'credentials_invalid');
    const record = await assertRefusalAudited(reply, {
      reason: 'credentials_invalid',
      cause: 'password mismatch',
      address,
      secrets: [WRONG_PASSWORD, header.slice('Basic '.length)],
      explains: [/the password sent was wrong/],
    });
    const target = record.target ?? '';
    assert.ok(target.startsWith('GET /no/such/route/aaa'), target);
    assert.ok(target.length <= 300, `a bounded target: ${target.length} characters`);
  });

  test('a sign-in at a long URL no route matches is recorded, and the answer is the 404', async () => {
    const address = nextAddress();
    const reply = await get(longPath, basic(OPERATOR.name, OPERATOR.password), address);
    assertProblem(reply, 404, 'not_found');
    const records = await recordsOf(requestIdOf(reply));
    // Every answer of 400 or more has its record (issue 7): the sign-in, then the 404.
    assert.deepEqual(
      records.map((r) => [r.kind, r.outcome, r.principal, r.reason]),
      [
        ['auth.attempt', 'success', OPERATOR.name, null],
        ['http.refused', 'failure', OPERATOR.name, 'not_found'],
      ],
    );
    for (const r of records) assert.ok((r.target ?? '').length <= 300);
    assert.equal(records[1]?.told?.status, 404);
  });

  test('an unsupported scheme at a long URL is still a recorded 401', async () => {
    const address = nextAddress();
    const reply = await get(longPath, 'Negotiate YIIGhgYJKoZIhvcSAQICAQBuggZ1', address);
    assertProblem(reply, 401, 'scheme_unsupported');
    await assertRefusalAudited(reply, {
      reason: 'scheme_unsupported',
      cause: 'scheme Negotiate not enabled',
      address,
      secrets: [],
      explains: [/schemes this server accepted then: Bearer, Digest or Basic/],
    });
  });

  test('a claimed name too long for any account is recorded so GET /v1/audit readers accept it', async () => {
    const address = nextAddress();
    const claimed = `x${'y'.repeat(2000)}`;
    const reply = await whoami(basic(claimed, WRONG_PASSWORD), address);
    assertProblem(reply, 401, 'credentials_invalid');
    const requestId = requestIdOf(reply);
    const [record] = await recordsOf(requestId);
    assert.ok(record);
    assert.ok((record.claimedName ?? '').startsWith('xyyy'), String(record.claimedName));

    // What `certmaster explain --server` and `certmaster audit` do with the record.
    const listed = await get(
      `/v1/audit?request_id=${encodeURIComponent(requestId)}`,
      basic(ADMIN.name, ADMIN.password),
      nextAddress(),
    );
    assert.equal(listed.status, 200, listed.text.slice(0, 300));
    const read = auditRecordsFromJson(listed.json);
    assert.equal(read.length, 1);
    assert.equal(read[0]?.reason, 'credentials_invalid');
    const story = requestStory(requestId, read, ctx);
    assert.ok(story);
    assert.match(renderRequestStory(story), /no account named xyyy/);
  });
});

describe('the log as a whole', () => {
  test('holds no secret any test sent, and its chain verifies', async () => {
    const all = await srv.instance.store.queryAudit({ limit: 10_000 });
    assert.ok(all.length > 30, `the tests above wrote the log: ${all.length} records`);
    assert.ok(sentSecrets.size > 20);
    assertNoSecret(JSON.stringify(all), [...sentSecrets], 'the audit log');
    const verification = await srv.instance.audit.verify();
    assert.deepEqual(verification.ok, true, JSON.stringify(verification));
    if (verification.ok) assert.equal(verification.records, all.length);
  });
});
