/**
 * What the real curl is told when the scheme it speaks is off or the account is not set up for it:
 * the hint names, in words, the schemes that are on (a CLI user sees no WWW-Authenticate header),
 * and a Digest refusal says what to try without telling whether the account exists.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '../helpers/cli.js';
import { digestAuthorization } from '../helpers/digest.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';
import { type CurlResult, curl } from './curl.js';

const tmp = tempDir('refusal-words');
const ADMIN = { name: 'admin', password: 'Quartz-Lantern-Meadow-42', digest: false };
const servers: TestServer[] = [];

async function server(settings: Record<string, string>): Promise<{ url: string; ca: string }> {
  const s = await startTestServer({ 'auth.throttle_free_failures': '50', ...settings }, { admin: ADMIN });
  servers.push(s);
  const ca = join(tmp.path, `ca-${servers.length}.pem`);
  writeFileSync(ca, s.caPem);
  return { url: s.url, ca };
}

function refused(r: CurlResult, reason: string): { detail: string; hint: string } {
  assert.equal(r.final.status, 401, r.final.body);
  assert.equal(r.json.reason, reason, r.final.body);
  return { detail: String(r.json.detail), hint: String(r.json.hint) };
}

after(async () => {
  for (const s of servers) await s.close();
  tmp.remove();
});

describe('a scheme that is off is answered with the schemes that are on, in words', () => {
  test('auth.bearer false: a Bearer token is told to use Digest or Basic', async () => {
    const { url, ca } = await server({ 'auth.bearer': 'false' });
    const r = await curl(ca, ['-H', 'Authorization: Bearer cm_at_not_a_real_token', `${url}/v1/whoami`]);
    const { detail, hint } = refused(r, 'scheme_unsupported');
    assert.match(detail, /does not accept the Bearer authentication scheme/);
    assert.match(hint, /this server accepts Digest or Basic: use one of those/);
    assert.doesNotMatch(hint, /WWW-Authenticate|Bearer/);
  });

  test('auth.digest false: curl --digest, which then sends nothing, is told the schemes that are on', async () => {
    const { url, ca } = await server({ 'auth.digest': 'false' });
    const r = await curl(ca, ['--digest', '-u', `admin:${ADMIN.password}`, `${url}/v1/whoami`]);
    const { hint } = refused(r, 'credentials_missing');
    assert.match(hint, /this server accepts Bearer or Basic$/);
    assert.doesNotMatch(hint, /Digest|WWW-Authenticate/);
  });
});

describe('Digest refusals say what to try without telling whether the account exists', () => {
  let url: string;
  let ca: string;
  before(async () => {
    ({ url, ca } = await server({}));
  });

  test('the right password on an account without Digest secrets, and an unknown account, are told the same', async () => {
    // admin was created without --digest: curl answers the challenge with the right password.
    const known = refused(
      await curl(ca, ['--digest', '-u', `admin:${ADMIN.password}`, `${url}/v1/whoami`]),
      'credentials_invalid',
    );
    assert.match(
      known.hint,
      /if the password is right, this account may not be set up for Digest: use Bearer or Basic, or ask an administrator for `certmaster user passwd NAME --digest`/,
    );
    const unknown = refused(
      await curl(ca, ['--digest', '-u', `nobody-here:${ADMIN.password}`, `${url}/v1/whoami`]),
      'credentials_invalid',
    );
    assert.equal(unknown.detail, known.detail);
    assert.equal(unknown.hint, known.hint);
    // The right Basic password works: the Digest refusal was about Digest, not the password.
    const basic = await curl(ca, ['--basic', '-u', `admin:${ADMIN.password}`, `${url}/v1/whoami`]);
    assert.equal(basic.final.status, 200, basic.final.body);
  });

  test('a nonce this server never issued is told to start from a fresh challenge', async () => {
    const first = await curl(ca, [`${url}/v1/whoami`]);
    const digest = (first.final.headers.get('www-authenticate') ?? []).find((c) =>
      /^Digest .*algorithm=SHA-256/.test(c),
    );
    assert.ok(digest, 'a SHA-256 Digest challenge');
    const realm = /realm="([^"]*)"/.exec(digest)?.[1] ?? '';
    const opaque = /opaque="([^"]*)"/.exec(digest)?.[1] ?? '';
    const header = digestAuthorization({
      user: 'admin',
      password: ADMIN.password,
      realm,
      nonce: randomBytes(24).toString('base64url'),
      opaque,
      uri: '/v1/whoami',
    });
    const r = await curl(ca, ['-H', `Authorization: ${header}`, `${url}/v1/whoami`]);
    const { detail, hint } = refused(r, 'credentials_invalid');
    assert.equal(detail, 'the Digest nonce was not issued by this server');
    assert.match(hint, /start again from a fresh challenge/);
    assert.doesNotMatch(`${detail} ${hint}`, /admin|user name or password/);
  });
});
