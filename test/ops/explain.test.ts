/**
 * `certmaster explain` reads the audit log and tells an operator why a request was refused and what
 * to do. The refusals are provoked for real, over HTTPS against a real server on a real data
 * directory, and explained from the audit records the server itself wrote under the X-Request-Id it
 * answered with. A few rendering tests append records themselves (appendAudit) for what a client
 * cannot make the server record on demand.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { type Actor, auditEvent } from '../../src/audit/event.js';
import { appendAuditEvents } from '../../src/audit/linked-records.js';
import type { AuditStore } from '../../src/audit/storage-port.js';
import type { AuditEvent, AuditRecord } from '../../src/audit/types.js';
import { createAccount } from '../../src/auth/accounts.js';
import { scopesOfRole } from '../../src/auth/scopes.js';
import { registerExplain } from '../../src/cli/explain.js';
import { CliError } from '../../src/cli/output.js';
import { initDataDir } from '../../src/instance/init.js';
import { type Instance, openInstance } from '../../src/instance/open.js';
import {
  auditRecordJson,
  auditRecordsFromJson,
  type CommandContext,
  diagnoseHost,
  explainHost,
  explainRequest,
  type RequestStory,
  renderHostDiagnosis,
  renderRequestStory,
} from '../../src/ops/explain/index.js';
import { PolicyFailure } from '../../src/ra/failure.js';
import { type Principal, systemClock } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';
import { call, type Reply } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { opensslCsr } from '../helpers/openssl.js';

const ADMIN = { name: 'admin', password: 'Quarry-Lantern-Meadow-41', digest: false };
const ALICE_PASSWORD = 'Harbor-Thistle-Comet-93';
const WRONG_PASSWORD = 'Wrong-Password-Entirely-7';

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** The id the server answered with, in the header and the problem body alike. */
function requestIdOf(reply: Reply): string {
  const requestId = reply.headers['x-request-id'];
  assert.equal(typeof requestId, 'string', 'every answer carries X-Request-Id');
  if (reply.status >= 400) assert.equal(reply.json.request_id, requestId);
  return requestId as string;
}

async function rejection<T>(promise: Promise<T>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  assert.fail('expected a refusal');
}

async function append(store: AuditStore, ...events: AuditEvent[]): Promise<AuditRecord[]> {
  return appendAuditEvents(store, events);
}

/** Runs `certmaster explain ...` in process, capturing what it prints. */
async function runExplain(args: string[]): Promise<{ stdout: string; error: unknown }> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerExplain(program);
  const chunks: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(['node', 'certmaster', ...args]);
    return { stdout: chunks.join(''), error: null };
  } catch (error) {
    return { stdout: chunks.join(''), error };
  } finally {
    process.stdout.write = write;
  }
}

describe('explain REQUEST_ID: refusals provoked over HTTPS, explained from what the server recorded', () => {
  const clock = new MovableClock(Date.now());
  let server: TestServer;
  let ctx: CommandContext;

  /** The story of the request the server answered with `reply`; the server must have recorded it. */
  async function storyOf(reply: Reply): Promise<{ story: RequestStory; text: string }> {
    const requestId = requestIdOf(reply);
    const story = await explainRequest(server.instance.store, requestId, ctx);
    assert.ok(story, `the server wrote audit records for request ${requestId}`);
    return { story, text: renderRequestStory(story) };
  }

  before(async () => {
    server = await startTestServer({ 'auth.throttle_free_failures': '50' }, { clock, admin: ADMIN });
    ctx = { dataDir: server.dataDir, server: null };
    await createAccount(server.frontDoor.accounts, {
      name: 'alice',
      role: 'operator',
      password: ALICE_PASSWORD,
      digest: false,
    });
  });
  after(async () => server.close());

  test('a wrong password: the account exists, the fix is a new password for it', async () => {
    const reply = await call(`${server.url}/v1/whoami`, {
      ca: server.caPem,
      headers: { authorization: basic('alice', WRONG_PASSWORD) },
    });
    assert.equal(reply.status, 401);
    const { story, text } = await storyOf(reply);
    assert.equal(story.decisive.cause, 'password mismatch');
    assert.match(text, /refused .*with HTTP 401, reason credentials_invalid/);
    assert.match(text, /The caller at 127\.0\.0\.1 claimed to be alice, and was not authenticated\./);
    assert.match(text, /It sent HTTP Basic credentials/);
    assert.match(text, /It asked for GET \/v1\/whoami\./);
    assert.match(text, /the caller was not told this\): password mismatch/);
    assert.match(text, /told 401: "the user name or password is not right"/);
    assert.match(text, /The account alice exists, and the password sent was wrong/);
    assert.ok(text.includes(`Run: certmaster user passwd alice --data ${server.dataDir}`), text);
  });

  test('an unknown user: told the same as a wrong password, explained differently', async () => {
    const reply = await call(`${server.url}/v1/whoami`, {
      ca: server.caPem,
      headers: { authorization: basic('mallory', WRONG_PASSWORD) },
    });
    assert.equal(reply.status, 401);
    const { story, text } = await storyOf(reply);
    assert.equal(story.decisive.cause, 'unknown user mallory');
    assert.match(text, /told 401: "the user name or password is not right"/);
    assert.match(text, /There is no account named mallory/);
    assert.ok(text.includes(`Run: certmaster user add mallory --role ROLE --data ${server.dataDir}`), text);
    assert.doesNotMatch(text, /user passwd/);
  });

  test('a user id with a bidi override (U+202E) is printed escaped, never as itself', async () => {
    const reply = await call(`${server.url}/v1/whoami`, {
      ca: server.caPem,
      headers: { authorization: basic('admin\u202eresu', WRONG_PASSWORD) },
    });
    assert.equal(reply.status, 401);
    const { text } = await storyOf(reply);
    for (const unsafe of ['\u202e', '\u200b', '\u2066']) assert.ok(!text.includes(unsafe), text);
    assert.match(text, /claimed to be admin\?resu/);
    const { stdout, error } = await runExplain(['explain', requestIdOf(reply), '--data', server.dataDir]);
    assert.equal(error, null);
    assert.match(stdout, /admin\?resu/);
    assert.ok(!stdout.includes('\u202e'), 'the CLI prints no bidi override');
  });

  test('an expired access token (the clock moved past exp): sign in again', async () => {
    const issued = await server.frontDoor.accessTokens.issue({
      subject: 'alice',
      clientId: 'certmaster-cli',
      scopes: scopesOfRole('operator'),
      roles: ['operator'],
      familyId: null,
      ttlSeconds: 300,
    });
    clock.advance(3600);
    const reply = await call(`${server.url}/v1/whoami`, {
      ca: server.caPem,
      headers: { authorization: `Bearer ${issued.token}` },
    });
    assert.equal(reply.status, 401);
    const { story, text } = await storyOf(reply);
    assert.equal(story.decisive.reason, 'token_expired');
    assert.match(text, /claimed to be alice/);
    assert.ok(text.includes(`access token jti ${issued.jti} of alice expired at`), text);
    assert.match(text, /Run: certmaster login --server URL --user alice/);
  });

  test('a token that lacks a scope: 403 insufficient_scope, create a token with that scope', async () => {
    const { token, record } = await server.frontDoor.opaqueTokens.create({
      kind: 'api',
      owner: 'admin',
      scopes: ['requests:read'],
    });
    const reply = await call(`${server.url}/v1/users`, {
      ca: server.caPem,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(reply.status, 403);
    const { story, text } = await storyOf(reply);
    assert.equal(story.decisive.reason, 'insufficient_scope');
    assert.match(text, /The caller at 127\.0\.0\.1 was authenticated as admin\./);
    assert.ok(text.includes(`It sent an API token (token id ${record.id})`), text);
    assert.match(text, /does not carry the scope "users:manage" \(it has: requests:read\)/);
    assert.ok(
      // It names the token's owner (issue 7): a token for another account would be another grant.
      text.includes(
        `Run: certmaster token create --scope users:manage --owner admin --data ${server.dataDir}`,
      ),
      text,
    );
  });

  test("names an enrollment token does not cover: 403 name_not_allowed, from the RA's records", async () => {
    const tmp = tempDir('explain-csr');
    try {
      const { token, record } = await server.frontDoor.opaqueTokens.create({
        kind: 'enrollment',
        owner: 'admin',
        namePattern: 'web-*.example.com',
        uses: 1,
      });
      const { csrPem } = opensslCsr(tmp.path, 'db1', '/CN=db1.example.com');
      const reply = await call(`${server.url}/v1/requests`, {
        method: 'POST',
        ca: server.caPem,
        body: JSON.stringify({ csr: csrPem }),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      });
      assert.equal(reply.status, 403);
      assert.equal(reply.json.reason, 'name_not_allowed');
      const { story, text } = await storyOf(reply);
      assert.ok(story.records.length >= 2, 'the RA records the intent, then the refusal');
      assert.equal(story.decisive.reason, 'name_not_allowed');
      assert.match(text, /with HTTP 403, reason name_not_allowed/);
      assert.ok(text.includes(`authenticated as enrollment:${record.id}`), text);
      assert.match(text, /It sent an enrollment token/);
      assert.match(
        text,
        /may obtain certificates only for web-\*\.example\.com; the request asks for db1\.example\.com/,
      );
      assert.match(text, /Records \(\d+\):/);
      // The record names the host the CSR asked for, so the command is ready to run.
      assert.match(text, /It acted on db1\.example\.com\./);
      assert.match(text, /Run: certmaster token create --enroll db1\.example\.com --uses 1 --data /);
    } finally {
      tmp.remove();
    }
  });

  test('--json: the story with every record in the wire form, which reads back unchanged', async () => {
    const reply = await call(`${server.url}/v1/users`, { ca: server.caPem });
    assert.equal(reply.status, 401);
    const requestId = requestIdOf(reply);
    const stored = await server.instance.store.queryAudit({ requestId });
    const { stdout, error } = await runExplain(['explain', requestId, '--data', server.dataDir, '--json']);
    assert.equal(error, null);
    const parsed = JSON.parse(stdout) as { reason: string; advice: { command: string }; records: unknown[] };
    assert.equal(parsed.reason, 'credentials_missing');
    assert.match(parsed.advice.command, /^certmaster login --server URL/);
    assert.deepEqual(auditRecordsFromJson({ records: parsed.records }), stored);
    assert.deepEqual(
      parsed.records,
      stored.map((r) => JSON.parse(JSON.stringify(auditRecordJson(r)))),
    );
  });

  test('--server: the same story through GET /v1/audit, with an API token that may read the audit log', async () => {
    const refused = await call(`${server.url}/v1/whoami`, {
      ca: server.caPem,
      headers: { authorization: basic('alice', WRONG_PASSWORD) },
    });
    assert.equal(refused.status, 401);
    const requestId = requestIdOf(refused);
    const { token } = await server.frontDoor.opaqueTokens.create({
      kind: 'api',
      owner: 'admin',
      scopes: ['audit:read'],
    });
    const caFile = join(server.dataDir, 'ca', 'ca.pem');
    const remote = await runExplain([
      'explain',
      requestId,
      '--server',
      server.url,
      '--token',
      token,
      '--ca-file',
      caFile,
    ]);
    assert.equal(remote.error, null, String(remote.error));
    const local = await runExplain(['explain', requestId, '--data', server.dataDir]);
    assert.match(remote.stdout, /the caller was not told this\): password mismatch/);
    assert.match(remote.stdout, /Run: certmaster user passwd alice --data DIR/);
    assert.equal(
      remote.stdout.replace(/ --data \S+/g, ''),
      local.stdout.replace(/ --data \S+/g, ''),
      'the same story locally and remotely',
    );
  });

  test('an unknown request id: no story, and the command fails with one line', async () => {
    assert.equal(await explainRequest(server.instance.store, 'no-such-request-id', ctx), null);
    const { error } = await runExplain(['explain', 'no-such-request-id', '--data', server.dataDir]);
    assert.ok(error instanceof CliError);
    assert.equal(error.exitCode, 1);
    assert.match(error.message, /^no audit record has request id no-such-request-id/);
    assert.doesNotMatch(error.message, /\n/);
  });
});

describe('explain REQUEST_ID: rendering records appended here', () => {
  const tmp = tempDir('explain-render');
  const dataDir = join(tmp.path, 'data');
  let instance: Instance;

  before(async () => {
    await initDataDir({
      dataDir,
      keyType: 'ec-p256',
      caSubject: 'CN=explain render CA',
      caValidityDays: 365,
      serverValidityDays: 90,
      serverNames: [],
      clock: systemClock,
    });
    instance = await openInstance(dataDir);
  });
  after(async () => {
    await instance.close();
    tmp.remove();
  });

  function refusal(requestId: string, fields: Partial<AuditEvent>): AuditEvent {
    return {
      at: new Date(),
      requestId,
      kind: 'auth.attempt',
      phase: 'decision',
      outcome: 'failure',
      reason: 'credentials_invalid',
      principal: null,
      claimedName: null,
      method: 'basic',
      credentialId: null,
      clientAddress: '192.0.2.10',
      cause: null,
      told: { status: 401, detail: 'the user name or password is not right', hint: 'check' },
      target: 'GET /v1/whoami',
      details: {},
      ...fields,
    };
  }

  test('what a client sent cannot drive the terminal or the suggested command', async () => {
    await append(
      instance.store,
      refusal('hostile-name-1', {
        claimedName: 'x; rm -rf /\u001b[2J',
        cause: 'password mismatch',
        details: { cause: { code: 'password_mismatch', account: 'x; rm -rf /\u001b[2J' } },
      }),
    );
    const story = await explainRequest(instance.store, 'hostile-name-1', { dataDir, server: null });
    assert.ok(story);
    const text = renderRequestStory(story);
    assert.ok(!text.includes('\u001b'), 'no escape character reaches the terminal');
    assert.ok(text.includes(`certmaster user passwd 'x; rm -rf /?[2J' --data ${dataDir}`), text);
  });

  test('advice comes from the typed cause, never from the words: reworded text changes nothing', async () => {
    await append(
      instance.store,
      refusal('typed-1', {
        claimedName: 'dave',
        cause: 'some other wording of an unknown user',
        details: { cause: { code: 'unknown_user', name: 'dave', hashed: false } },
      }),
      refusal('untyped-1', { claimedName: 'erin', cause: 'unknown user erin' }),
    );
    const typed = renderRequestStory(
      (await explainRequest(instance.store, 'typed-1', { dataDir, server: null }))!,
    );
    assert.match(typed, /There is no account named dave/);
    assert.ok(typed.includes(`certmaster user add dave --role ROLE --data ${dataDir}`), typed);
    // A record without a typed cause (another version's) gets the general advice, not a guess from its text.
    const untyped = renderRequestStory(
      (await explainRequest(instance.store, 'untyped-1', { dataDir, server: null }))!,
    );
    assert.doesNotMatch(untyped, /There is no account named/);
    assert.match(untyped, /were not valid \(unknown user erin\)/);
  });

  test('a realm changed under a digest account, and the realm it was made for', async () => {
    await append(
      instance.store,
      refusal('realm-1', {
        claimedName: 'carol',
        method: 'digest',
        cause: `account carol's digest secrets were made for realm "certmaster", not "ops"`,
        details: {
          cause: { code: 'digest_realm_changed', account: 'carol', madeFor: 'certmaster', current: 'ops' },
        },
      }),
    );
    const story = await explainRequest(instance.store, 'realm-1', { dataDir, server: null });
    assert.ok(story);
    const text = renderRequestStory(story);
    assert.match(text, /It sent an HTTP Digest response\./);
    assert.match(text, /made for realm "certmaster", but auth\.realm is now "ops"/);
    assert.ok(text.includes(`Run: certmaster user passwd carol --digest --data ${dataDir}`), text);
  });

  test('a request that succeeded is told as such, with no advice', async () => {
    await append(
      instance.store,
      refusal('fine-1', {
        outcome: 'success',
        reason: null,
        principal: 'alice',
        method: 'access_token',
        credentialId: 'jti-1',
        told: null,
      }),
    );
    const story = await explainRequest(instance.store, 'fine-1', { dataDir, server: null });
    assert.ok(story);
    assert.equal(story.advice, null);
    assert.match(
      renderRequestStory(story),
      /^Request fine-1 succeeded at .*\nThe caller at 192\.0\.2\.10 was authenticated as alice\./,
    );
  });
});

describe('explain --host NAME: why a host cannot get or renew a certificate', () => {
  const tmp = tempDir('explain-host');
  const dataDir = join(tmp.path, 'data');
  let instance: Instance;
  let ctx: CommandContext;
  let n = 0;

  function actor(): Actor {
    n += 1;
    return {
      name: 'local operator',
      requestId: `host-test-${n}`,
      address: null,
      method: 'local',
      credentialId: null,
    };
  }

  async function submit(cn: string, principal: Principal = anonymous()): Promise<{ csrPem: string }> {
    const { csrPem } = opensslCsr(tmp.path, `${cn}-${n}`, `/CN=${cn}`);
    await instance.ra.submit({ csrPem, principal, actor: actor() });
    return { csrPem };
  }

  function anonymous(): Principal {
    return { name: 'anonymous', anonymous: true, roles: [], scopes: [], method: 'anonymous' };
  }

  const operator: Principal = {
    name: 'admin',
    anonymous: false,
    roles: ['admin'],
    scopes: scopesOfRole('admin'),
    method: 'basic',
  };

  before(async () => {
    await initDataDir({
      dataDir,
      keyType: 'ec-p256',
      caSubject: 'CN=explain test CA',
      caValidityDays: 365,
      serverValidityDays: 90,
      serverNames: [],
      clock: systemClock,
    });
    instance = await openInstance(dataDir);
    ctx = { dataDir, server: null };
  });
  after(async () => {
    await instance.close();
    tmp.remove();
  });

  test('pending approval: since when, and the command that signs it', async () => {
    await submit('pending.example.com');
    const d = await explainHost(instance.store, 'pending.example.com', ctx, systemClock);
    assert.equal(d.verdict, 'waiting');
    const text = renderHostDiagnosis(d);
    assert.match(text, /pending\.example\.com is waiting for an operator\. It holds no valid certificate\./);
    assert.match(text, /has been waiting for an operator since 20\d\d-/);
    assert.ok(text.includes(`Run: certmaster ca sign pending.example.com --data ${dataDir}`), text);
  });

  test('rejected: by whom and why, and `ca clean` to let it submit again', async () => {
    await submit('rejected.example.com');
    await instance.ra.reject('rejected.example.com', actor(), 'not one of ours');
    const d = await explainHost(instance.store, 'rejected.example.com', ctx, systemClock);
    assert.equal(d.verdict, 'blocked');
    const text = renderHostDiagnosis(d);
    assert.match(text, /was rejected by local operator at .*: "not one of ours"/);
    assert.ok(text.includes(`Run: certmaster ca clean rejected.example.com --data ${dataDir}`), text);
  });

  test('nothing wrong: it holds a certificate, valid until when', async () => {
    await submit('fine.example.com', operator);
    const d = await explainHost(instance.store, 'fine.example.com', ctx, systemClock);
    assert.equal(d.verdict, 'ok');
    assert.ok(d.holding);
    assert.match(
      renderHostDiagnosis(d),
      new RegExp(
        `^Nothing wrong: fine\\.example\\.com holds certificate ${d.holding.serial}, valid until 20`,
      ),
    );
  });

  test('expired and revoked certificates', async () => {
    await submit('old.example.com', operator);
    const later = new MovableClock(Date.now() + 200 * 86_400_000);
    const expired = await explainHost(instance.store, 'old.example.com', ctx, later);
    assert.equal(expired.verdict, 'blocked');
    assert.match(renderHostDiagnosis(expired), /expired at .* it holds no valid certificate/);
    assert.match(
      renderHostDiagnosis(expired),
      /Run: certmaster request --server URL --cn old\.example\.com --out DIR/,
    );

    const [cert] = await instance.store.listCertificates({ status: 'all', commonName: 'old.example.com' });
    assert.ok(cert);
    await instance.ra.revoke(cert.serial, 'keyCompromise', actor());
    const revoked = await explainHost(instance.store, 'old.example.com', ctx, systemClock);
    assert.equal(revoked.verdict, 'blocked');
    assert.match(renderHostDiagnosis(revoked), /was revoked at .* \(reason keyCompromise\)/);
  });

  test('a renewal with a new key while the certificate is valid: request_conflict, holding shown', async () => {
    await submit('renew.example.com', operator);
    const { csrPem } = opensslCsr(tmp.path, 'renew-2', '/CN=renew.example.com');
    const a = actor();
    const failure = await rejection(instance.ra.submit({ csrPem, principal: operator, actor: a }));
    assert.ok(failure instanceof PolicyFailure);
    assert.equal(failure.reason, 'request_conflict');
    // The RA recorded the refusal itself, under the actor's request id.
    const [recorded] = await instance.store.queryAudit({ requestId: a.requestId, outcome: 'failure' });
    assert.equal(recorded?.reason, 'request_conflict');
    const d = await explainHost(instance.store, 'renew.example.com', ctx, systemClock);
    assert.equal(d.verdict, 'blocked');
    assert.ok(d.holding, 'it still holds its certificate');
    const text = renderHostDiagnosis(d);
    assert.match(text, /already holds a valid certificate, and the request came with a different CSR/);
    assert.match(text, new RegExp(`certmaster explain ${a.requestId} --data`));
    // A stranger's CSR is no reason to revoke a healthy host (issue 7): no `ca clean`, but both keys.
    assert.ok(!text.includes('ca clean renew.example.com'), text);
    assert.match(text, /is for key SHA-256 [0-9a-f]{64}; the request came with key SHA-256 [0-9a-f]{64}/);
    const [held] = await instance.store.listCertificates({ status: 'all', commonName: 'renew.example.com' });
    assert.ok(held && text.includes(held.serial), 'the operator sees the serial');
  });

  test('names not allowed, throttling and clock skew from the audit log', async () => {
    const refusals: AuditEvent[] = [
      {
        ...auditEvent(new Date(), actor(), 'request.submit', 'response', 'failure', {
          reason: 'name_not_allowed',
          cause:
            'enrollment:abc may obtain certificates only for web-*.example.com; the request asks for web7.example.org',
          told: {
            status: 0,
            detail:
              'enrollment:abc may obtain certificates only for web-*.example.com; the request asks for web7.example.org',
            hint: 'ask for names your account or enrollment token allows',
          },
        }),
      },
      {
        ...auditEvent(new Date(), actor(), 'auth.attempt', 'decision', 'failure', {
          reason: 'too_many_attempts',
          claimedName: 'web7.example.org',
          cause: 'throttled 192.0.2.7 for web7.example.org for 120 s',
          told: { status: 429, detail: 'too many failed attempts; try again in 120 seconds', hint: 'wait' },
          target: 'POST /oauth/token',
        }),
        principal: null,
        clientAddress: '192.0.2.7',
      },
      {
        ...auditEvent(new Date(), actor(), 'auth.attempt', 'decision', 'failure', {
          reason: 'token_not_yet_valid',
          claimedName: 'web7.example.org',
          cause: 'access token jti j1 used -400 s before its nbf',
          told: {
            status: 401,
            detail: 'the access token is not valid for another 7 min',
            hint: 'check the clock',
          },
          target: 'POST /v1/requests',
        }),
        principal: null,
      },
    ];
    await append(instance.store, ...refusals);
    // Another host's refusal that merely shares a suffix is not this host's.
    await append(
      instance.store,
      auditEvent(new Date(), actor(), 'request.submit', 'response', 'failure', {
        reason: 'name_invalid',
        cause: 'www.web7.example.org is bad',
        told: { status: 0, detail: 'www.web7.example.org is bad', hint: 'x' },
      }),
    );
    const d = await explainHost(instance.store, 'web7.example.org', ctx, systemClock);
    assert.equal(d.verdict, 'blocked');
    assert.deepEqual(d.findings.map((f) => f.code).sort(), [
      'clock_skew',
      'name_not_allowed',
      'too_many_attempts',
    ]);
    const text = renderHostDiagnosis(d);
    assert.match(
      text,
      /web7\.example\.org cannot get or renew a certificate\. It holds no valid certificate\./,
    );
    assert.match(text, /asked for names its account or enrollment token does not cover/);
    assert.match(text, /Too many failed attempts came from 192\.0\.2\.7 for web7\.example\.org/);
    assert.match(text, /clock skew/);
    assert.match(text, /certmaster doctor --data .* --peer URL/);
  });

  test('a CSR refused for its key or its names is found by the host it asked for', async () => {
    const weak = opensslCsr(tmp.path, 'weak-rsa', '/CN=Weak.Example.Org', { keyAlg: 'rsa:1024' });
    await assert.rejects(
      instance.ra.submit({ csrPem: weak.csrPem, principal: anonymous(), actor: actor() }),
      (e: unknown) => e instanceof PolicyFailure && e.reason === 'key_too_weak',
    );
    const weakText = renderHostDiagnosis(
      await explainHost(instance.store, 'weak.example.org', ctx, systemClock),
    );
    assert.doesNotMatch(weakText, /has no record of/);
    assert.match(weakText, /key_too_weak/);

    const bad = opensslCsr(tmp.path, 'bad-name', '/CN=named.example.org', {
      sans: ['DNS:bad_name!.example.org'],
    });
    await assert.rejects(
      instance.ra.submit({ csrPem: bad.csrPem, principal: anonymous(), actor: actor() }),
      (e: unknown) => e instanceof PolicyFailure && e.reason === 'name_invalid',
    );
    const badText = renderHostDiagnosis(
      await explainHost(instance.store, 'named.example.org', ctx, systemClock),
    );
    assert.match(badText, /name_invalid/);
  });

  test('a name certmaster never heard of', async () => {
    const d = diagnoseHost('ghost.example.com', [], [], [], ctx, new Date());
    assert.equal(d.verdict, 'unknown');
    assert.match(renderHostDiagnosis(d), /has no record of ghost\.example\.com/);
  });
});
