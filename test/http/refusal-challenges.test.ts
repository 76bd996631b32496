/**
 * A refusal's WWW-Authenticate challenges are built once: each Digest challenge mints a nonce (an HMAC),
 * and the audit record's hint must name the schemes the answer offers. Before, a 401 for missing
 * credentials built them twice (once for the record, once for the answer).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AuthFailure } from '../../src/auth/failure.js';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const ADMIN = { name: 'admin', password: 'quill-harbour-copper-58', digest: true };

describe('refusal challenges', () => {
  let srv: TestServer;
  let built = 0;

  before(async () => {
    // Each anonymous 401 gets its own audit record, so the test can read its hint.
    srv = await startTestServer({ 'audit.summarize_floods': 'false' }, { admin: ADMIN });
    const authenticator = srv.frontDoor.authenticator;
    const real = authenticator.challenges.bind(authenticator);
    // A counting wrapper around the real method: the answers still carry its real challenges.
    authenticator.challenges = (
      failure: AuthFailure | null,
      input: { address: string; plainHttp: boolean },
    ) => {
      built++;
      return real(failure, input);
    };
  });
  after(() => srv.close());

  async function refusedOnce(headers: Record<string, string>) {
    built = 0;
    const reply = await call(`${srv.url}/v1/whoami`, { ca: srv.caPem, headers });
    assert.equal(reply.status, 401, reply.text);
    assert.equal(built, 1, 'the challenges were built once for the refusal');
    return reply;
  }

  it('builds them once for a 401 without credentials, and the record names the schemes the answer offers', async () => {
    const reply = await refusedOnce({});
    // Node joins the answer's WWW-Authenticate fields with ", ".
    const offered = String(reply.headers['www-authenticate']);
    for (const scheme of ['Bearer realm=', 'Digest realm=', 'Basic realm='])
      assert.ok(offered.includes(scheme), offered);
    const requestId = reply.headers['x-request-id'];
    assert.equal(typeof requestId, 'string');
    const [record] = await srv.instance.store.queryAudit({ requestId: requestId as string });
    assert.ok(record, 'the refusal has its own audit record');
    assert.equal(record.reason, 'credentials_missing');
    assert.equal(record.told?.hint, reply.json.hint);
    assert.match(String(reply.json.hint), /this server accepts Bearer, Digest or Basic/);
  });

  it('builds them once for a refused Bearer token', async () => {
    const reply = await refusedOnce({ authorization: 'Bearer not-a-certmaster-token' });
    assert.match(
      String(reply.headers['www-authenticate']),
      /Bearer realm="certmaster", error="invalid_token"/,
    );
  });
});
