/**
 * "Never log secrets": the whole server in process with a pino logger at level trace writing to a
 * file, driven through every way a secret reaches it (Basic, Digest, the three OAuth grants, API and
 * enrollment tokens, revocation, introspection, and the usual mistakes). No password, token, client
 * secret or digest response may appear in the log, in a refusal, or in an error message; the log
 * must hold every request id, so the check is known to look at the right text.
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { createAccount } from '../../src/auth/accounts.js';
import { CLI_CLIENT_ID } from '../../src/client/api.js';
import { makeCsr } from '../../src/client/csr.js';
import { initDataDir } from '../../src/instance/init.js';
import { type Instance, openInstance } from '../../src/instance/open.js';
import { type RunningServer, startCertmasterServer } from '../../src/instance/server.js';
import { systemClock } from '../../src/types.js';
import { generateKeyPair } from '../../src/util/keys.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';
import {
  answerDigest,
  basicAuthorization,
  challenge,
  type HttpsReply,
  postForm,
  type SendOptions,
  send,
} from './front-door-client.js';

const ADMIN = { name: 'chief', password: 'Quarry-Lantern-5521-velvet', digest: true };
const OPERATOR = { name: 'alice', password: 'Tangerine-Orbit-7741-quasar' };
const WRONG_PASSWORD = 'Wrong-Guess-9931-lilac';
const CLIENT = { id: 'svc-backup', secret: 'client-secret-Zq7Rk2Lp9Vx4Wm8N' };
const WRONG_CLIENT_SECRET = 'not-the-client-secret-0042';

const tmp = tempDir('secrets');
const logPath = join(tmp.path, 'server.log');
const dataDir = join(tmp.path, 'data');
const clock = new MovableClock(Date.now());
let instance: Instance;
let server: RunningServer;
let caPem = '';

/** Every secret the exercise used; none may leave the request that carried it. */
const secrets = new Map<string, string>();
/** Every answer, with whether it may carry secrets (the grant or creation that hands one out). */
const answers: Array<{ what: string; reply: HttpsReply; handsOutSecrets: boolean }> = [];

function remember(what: string, secret: string): string {
  assert.ok(secret.length >= 12, `${what} is long enough to search for`);
  secrets.set(what, secret);
  return secret;
}

async function call(
  what: string,
  path: string,
  options: Omit<SendOptions, 'ca'> = {},
  handsOutSecrets = false,
): Promise<HttpsReply> {
  const reply = await send(`${server.url}${path}`, { ...options, ca: caPem });
  answers.push({ what, reply, handsOutSecrets });
  return reply;
}

async function form(
  what: string,
  path: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<HttpsReply> {
  const reply = await postForm(`${server.url}${path}`, caPem, params, { headers });
  answers.push({ what, reply, handsOutSecrets: reply.status === 200 && path === '/oauth/token' });
  return reply;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

/** The parts of a secret worth searching for: itself, and for tokens the random part alone. */
function needles(secret: string): string[] {
  const parts = [secret];
  const opaque = /^cm[aer]t_(.+)$/.exec(secret);
  if (opaque?.[1]) parts.push(opaque[1].slice(0, 24), opaque[1].slice(-24));
  const jwt = secret.split('.');
  if (jwt.length === 3 && jwt[2]) parts.push(jwt[2]);
  return parts;
}

/** Case-insensitive: a secret lower-cased (as a scheme name is) is still leaked. */
function leaks(text: string): string[] {
  const haystack = text.toLowerCase();
  const found: string[] = [];
  for (const [what, secret] of secrets) {
    if (needles(secret).some((needle) => haystack.includes(needle.toLowerCase()))) found.push(what);
  }
  return found;
}

before(async () => {
  await initDataDir({
    dataDir,
    keyType: 'ec-p256',
    caSubject: 'CN=secrets test CA',
    caValidityDays: 365,
    serverValidityDays: 30,
    serverNames: [],
    clock: systemClock,
    admin: ADMIN,
  });
  instance = await openInstance(dataDir);
  const logger = pino({ level: 'trace' }, pino.destination({ dest: logPath, sync: true }));
  server = await startCertmasterServer(instance, { host: '127.0.0.1', port: 0, logger, clock });
  caPem = instance.ca.certificatePem;
  const frontDoor = server.frontDoor;
  await createAccount(frontDoor.accounts, { ...OPERATOR, role: 'operator', digest: true });
  await instance.store.createClient({
    clientId: CLIENT.id,
    secretHash: await frontDoor.hasher.hash(CLIENT.secret),
    role: 'operator',
    scopes: ['certificates:read', 'requests:read'],
    owner: ADMIN.name,
    disabled: false,
    createdAt: clock.now(),
  });
  for (const [what, secret] of [
    ['admin password', ADMIN.password],
    ['operator password', OPERATOR.password],
    ['wrong password', WRONG_PASSWORD],
    ['client secret', CLIENT.secret],
    ['wrong client secret', WRONG_CLIENT_SECRET],
  ] as const) {
    remember(what, secret);
  }
  remember('operator Basic credentials', basicAuthorization(OPERATOR.name, OPERATOR.password).slice(6));
  await exercise();
  await server.close();
  await instance.close();
});
after(() => {
  tmp.remove();
});

/** Drives every path a secret takes through the front door. */
async function exercise(): Promise<void> {
  // Basic, right and wrong.
  assert.equal(
    (
      await call('basic ok', '/v1/whoami', {
        headers: { authorization: basicAuthorization(OPERATOR.name, OPERATOR.password) },
      })
    ).status,
    200,
  );
  assert.equal(
    (
      await call('basic wrong', '/v1/whoami', {
        headers: { authorization: basicAuthorization(OPERATOR.name, WRONG_PASSWORD) },
      })
    ).status,
    401,
  );
  remember('wrong Basic credentials', basicAuthorization(OPERATOR.name, WRONG_PASSWORD).slice(6));

  // Digest, right and wrong: the response= values are password-equivalent for that nonce.
  const first = await call('digest challenge', '/v1/whoami');
  const digest = challenge(first, 'Digest');
  const right = answerDigest(
    digest,
    { user: OPERATOR.name, password: OPERATOR.password },
    { method: 'GET', uri: '/v1/whoami' },
  );
  remember('digest response', right.response);
  assert.equal(
    (await call('digest ok', '/v1/whoami', { headers: { authorization: right.header } })).status,
    200,
  );
  const wrong = answerDigest(
    digest,
    { user: OPERATOR.name, password: WRONG_PASSWORD },
    { method: 'GET', uri: '/v1/whoami' },
  );
  remember('wrong digest response', wrong.response);
  assert.equal(
    (await call('digest wrong', '/v1/whoami', { headers: { authorization: wrong.header } })).status,
    401,
  );

  // The password grant, right and wrong.
  const granted = await form('password grant', '/oauth/token', {
    grant_type: 'password',
    username: OPERATOR.name,
    password: OPERATOR.password,
    client_id: CLI_CLIENT_ID,
  });
  assert.equal(granted.status, 200, granted.text);
  const access = remember('access token (password grant)', String(granted.json.access_token));
  const refresh = remember('refresh token', String(granted.json.refresh_token));
  const refused = await form('password grant wrong', '/oauth/token', {
    grant_type: 'password',
    username: OPERATOR.name,
    password: WRONG_PASSWORD,
    client_id: CLI_CLIENT_ID,
  });
  assert.equal(refused.status, 400, refused.text);
  assert.equal((await call('access token use', '/v1/certificates', { headers: bearer(access) })).status, 200);

  // The admin's own token, to create tokens over HTTP and to introspect.
  const adminGrant = await form('admin password grant', '/oauth/token', {
    grant_type: 'password',
    username: ADMIN.name,
    password: ADMIN.password,
    client_id: CLI_CLIENT_ID,
  });
  assert.equal(adminGrant.status, 200, adminGrant.text);
  const adminAccess = remember('admin access token', String(adminGrant.json.access_token));
  remember('admin refresh token', String(adminGrant.json.refresh_token));

  // client_credentials, right and wrong.
  const clientBasic = `Basic ${Buffer.from(`${encodeURIComponent(CLIENT.id)}:${encodeURIComponent(CLIENT.secret)}`).toString('base64')}`;
  remember('client Basic credentials', clientBasic.slice(6));
  const service = await form(
    'client_credentials',
    '/oauth/token',
    { grant_type: 'client_credentials' },
    { authorization: clientBasic },
  );
  assert.equal(service.status, 200, service.text);
  const serviceAccess = remember('access token (client_credentials)', String(service.json.access_token));
  assert.equal(
    (await call('service token use', '/v1/certificates', { headers: bearer(serviceAccess) })).status,
    200,
  );
  const badClient = await form('client_credentials wrong', '/oauth/token', {
    grant_type: 'client_credentials',
    client_id: CLIENT.id,
    client_secret: WRONG_CLIENT_SECRET,
  });
  assert.equal(badClient.status, 401, badClient.text);

  // The refresh grant, then the reuse of the spent refresh token (reuse detection revokes the family).
  const refreshed = await form('refresh grant', '/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: refresh,
    client_id: CLI_CLIENT_ID,
  });
  assert.equal(refreshed.status, 200, refreshed.text);
  const access2 = remember('access token (refresh grant)', String(refreshed.json.access_token));
  const refresh2 = remember('rotated refresh token', String(refreshed.json.refresh_token));
  assert.equal((await call('refreshed token use', '/v1/whoami', { headers: bearer(access2) })).status, 200);
  const reused = await form('refresh reuse', '/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: refresh,
    client_id: CLI_CLIENT_ID,
  });
  assert.equal(reused.status, 400, reused.text);

  // API tokens: made in process and over HTTP, used, introspected, revoked, used again.
  const made = await server.frontDoor.opaqueTokens.create({
    kind: 'api',
    owner: OPERATOR.name,
    scopes: ['certificates:read'],
  });
  const apiToken = remember('API token', made.token);
  assert.equal((await call('API token use', '/v1/certificates', { headers: bearer(apiToken) })).status, 200);
  assert.equal(
    (await call('API token without scope', '/v1/requests?state=pending', { headers: bearer(apiToken) }))
      .status,
    403,
  );
  const created = await call(
    'API token over HTTP',
    '/v1/tokens',
    {
      method: 'POST',
      headers: { ...bearer(adminAccess), 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'api', scopes: ['users:manage'] }),
    },
    true,
  );
  assert.equal(created.status, 201, created.text);
  const httpToken = remember('API token made over HTTP', String(created.json.token));
  assert.equal((await call('HTTP-made token use', '/v1/users', { headers: bearer(httpToken) })).status, 200);
  const introspected = await form(
    'introspection',
    '/oauth/introspect',
    { token: apiToken },
    bearer(adminAccess),
  );
  assert.equal(introspected.status, 200, introspected.text);
  assert.equal(introspected.json.active, true);
  assert.equal((await form('revoke API token', '/oauth/revoke', { token: apiToken })).status, 200);
  assert.equal(
    (await call('revoked API token use', '/v1/certificates', { headers: bearer(apiToken) })).status,
    401,
  );

  // Enrollment tokens: used once to enroll, then used up.
  const enrollment = await server.frontDoor.opaqueTokens.create({
    kind: 'enrollment',
    owner: ADMIN.name,
    namePattern: '*.web.example.com',
    uses: 1,
  });
  const enrollmentToken = remember('enrollment token', enrollment.token);
  const key = generateKeyPair('ec-p256').privateKey;
  const submit = async (what: string, cn: string) =>
    call(what, '/v1/requests', {
      method: 'POST',
      headers: { ...bearer(enrollmentToken), 'content-type': 'application/json' },
      body: JSON.stringify({ csr: await makeCsr(key, 'ec-p256', cn, [cn]) }),
    });
  const enrolled = await submit('enrollment', 'a.web.example.com');
  assert.ok(enrolled.status === 201 || enrolled.status === 200, enrolled.text);
  const usedUp = await submit('enrollment used up', 'b.web.example.com');
  assert.ok(usedUp.status >= 400 && usedUp.status < 500, usedUp.text);

  // Revoking the rotated refresh token ends the sign-in; its access token is refused.
  assert.equal(
    (await form('revoke refresh token', '/oauth/revoke', { token: refresh2, client_id: CLI_CLIENT_ID }))
      .status,
    200,
  );
  assert.equal(
    (await call('revoked access token use', '/v1/whoami', { headers: bearer(access2) })).status,
    401,
  );
  assert.equal(
    (
      await form(
        'revoke access token',
        '/oauth/revoke',
        { token: serviceAccess },
        { authorization: clientBasic },
      )
    ).status,
    200,
  );

  // Usual mistakes: a token without its scheme, a token in the wrong scheme, a secret as a user name.
  const bare = await server.frontDoor.opaqueTokens.create({
    kind: 'api',
    owner: OPERATOR.name,
    scopes: ['certificates:read'],
  });
  remember('API token sent without a scheme', bare.token);
  assert.equal(
    (await call('token without scheme', '/v1/whoami', { headers: { authorization: bare.token } })).status,
    401,
  );
  assert.equal(
    (await call('JWT without scheme', '/v1/whoami', { headers: { authorization: adminAccess } })).status,
    401,
  );
  assert.equal(
    (
      await call('token with a trailing comma', '/v1/whoami', {
        headers: { authorization: `Bearer ${bare.token},` },
      })
    ).status,
    401,
  );
  const basicTail = `${basicAuthorization(OPERATOR.name, OPERATOR.password)},`;
  assert.equal(
    (await call('Basic with a trailing comma', '/v1/whoami', { headers: { authorization: basicTail } }))
      .status,
    401,
  );
  assert.equal(
    (await call('token as Basic', '/v1/whoami', { headers: { authorization: `Basic ${bare.token}` } }))
      .status,
    401,
  );
  assert.equal(
    (
      await call('token in Digest', '/v1/whoami', {
        headers: { authorization: `Digest response="${bare.token}"` },
      })
    ).status,
    401,
  );
  clock.advance(3600);
  assert.equal(
    (await call('expired access token', '/v1/whoami', { headers: bearer(adminAccess) })).status,
    401,
  );
}

describe('secrets never leave the request that carried them', () => {
  test('the trace-level log holds every request id and no secret', () => {
    const log = readFileSync(logPath, 'utf8');
    assert.ok(log.length > 1000, 'the server logged');
    assert.ok(secrets.size >= 20, `secrets collected: ${[...secrets.keys()].join(', ')}`);
    for (const { what, reply } of answers) {
      const id = reply.headers['x-request-id'];
      assert.equal(typeof id, 'string', `${what} has a request id`);
      assert.ok(log.includes(`"reqId":"${String(id)}"`), `the log holds the request id of ${what}`);
    }
    const lines = log.split('\n').filter((line) => line.trim() !== '');
    for (const line of lines) {
      assert.deepEqual(leaks(line), [], `a log line holds a secret: ${line.slice(0, 400)}`);
    }
  });

  test('no refusal, error message or ordinary answer holds a secret', () => {
    assert.ok(answers.some(({ reply }) => reply.status === 401));
    for (const { what, reply, handsOutSecrets } of answers) {
      if (handsOutSecrets) continue;
      const headers = JSON.stringify(reply.distinct);
      assert.deepEqual(
        leaks(reply.text),
        [],
        `${what} (${reply.status}) answers with a secret: ${reply.text.slice(0, 400)}`,
      );
      assert.deepEqual(leaks(headers), [], `${what} (${reply.status}) has a secret in a header`);
    }
  });

  test('the answers that hand out a secret hold only the one they hand out', () => {
    const handedOut = answers.filter((a) => a.handsOutSecrets);
    assert.ok(handedOut.length >= 4);
    for (const { what, reply } of handedOut) {
      const issued = [reply.json.access_token, reply.json.refresh_token, reply.json.token].filter(
        (v): v is string => typeof v === 'string',
      );
      assert.ok(issued.length > 0, what);
      let rest = reply.text;
      for (const token of issued) rest = rest.split(token).join('');
      assert.deepEqual(leaks(rest), [], `${what} hands out more than its own tokens`);
      assert.equal(reply.headers['cache-control'], 'no-store', `${what} must not be cached`);
    }
  });

  test('the key files of the data directory are readable by the owner only', () => {
    const keyFiles: string[] = [];
    const walk = (dir: string, depth: number): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory() && depth < 4) walk(path, depth + 1);
        else if (entry.isFile() && (entry.name.endsWith('.key') || dir.endsWith('secrets')))
          keyFiles.push(path);
      }
    };
    walk(dataDir, 0);
    for (const expected of [instance.layout.caKey, instance.layout.serverKey, instance.layout.authKey]) {
      assert.ok(keyFiles.includes(expected), `${expected} exists`);
    }
    for (const path of keyFiles) {
      assert.equal((statSync(path).mode & 0o777).toString(8), '600', path);
    }
    assert.equal((statSync(instance.layout.secretsDir).mode & 0o777).toString(8), '700');
  });
});
