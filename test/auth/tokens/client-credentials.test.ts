import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isMalformed, parseAuthorization } from '../../../src/auth/schemes/authorization.js';
import { presentedClient } from '../../../src/auth/tokens/client-credentials.js';
import { OAuthError } from '../../../src/auth/tokens/oauth-error.js';

/** RFC 6749 §2.3.1: form-urlencode each part, then join with ":" and base64 the result. */
const clientBasic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

function refusal(authorization: string): OAuthError {
  try {
    presentedClient(authorization, {});
  } catch (error) {
    if (error instanceof OAuthError) return error;
    throw error;
  }
  assert.fail('expected an OAuthError');
}

describe('presentedClient: client_secret_basic read with the API Authorization parser', () => {
  it('form-decodes the client id and secret (RFC 6749 §2.3.1), so both may hold ":" and non-ASCII', () => {
    assert.deepEqual(presentedClient(clientBasic('svc:a', 'sëcret:1 2'), {}), {
      method: 'client_secret_basic',
      clientId: 'svc:a',
      secret: 'sëcret:1 2',
    });
  });

  it('accepts every header the API parser accepts: any case, spaces and tabs around the credentials', () => {
    const token = clientBasic('svc', 'secret').slice('Basic '.length);
    for (const header of [
      `basic ${token}`,
      `BASIC   ${token}`,
      ` Basic ${token}`,
      `Basic ${token}\t`,
      `Basic ${token} \t `,
    ]) {
      const parsed = parseAuthorization(header);
      assert.ok(!isMalformed(parsed) && parsed.scheme === 'basic' && parsed.token68 === token, header);
      assert.deepEqual(
        presentedClient(header, {}),
        { method: 'client_secret_basic', clientId: 'svc', secret: 'secret' },
        header,
      );
    }
  });

  it('refuses other schemes, parameters instead of a token, and broken encodings as invalid_client', () => {
    const token = Buffer.from('svc:secret').toString('base64');
    assert.match(refusal(`Bearer ${token}`).description, /takes the Basic scheme/);
    assert.match(refusal('Basic realm="x"').description, /not base64/);
    assert.match(refusal('Basic').description, /not base64/);
    assert.match(refusal(`Basic ${Buffer.from('no-colon').toString('base64')}`).description, /no ":"/);
    assert.match(
      refusal(`Basic ${Buffer.from('svc:%zz').toString('base64')}`).description,
      /form-urlencoding/,
    );
    assert.match(refusal(`Basic ${'A'.repeat(4100)}`).description, /too long/);
    for (const header of ['Bearer x', 'Basic realm="x"', 'Basic'])
      assert.equal(refusal(header).error, 'invalid_client');
  });

  it('refuses credentials in both the header and the body (RFC 6749 §2.3: one method per request)', () => {
    const error = (() => {
      try {
        presentedClient(clientBasic('svc', 'secret'), { client_secret: 'other' });
      } catch (e) {
        return e;
      }
      return null;
    })();
    assert.ok(error instanceof OAuthError);
    assert.equal(error.error, 'invalid_request');
  });
});
