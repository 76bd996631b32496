/**
 * Errors that are answers (every refusal, and OAuth errors) capture no stack trace: a flood of bad
 * passwords raises thousands a second. A plain Error still gets its trace, and the limit is restored.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AcmeProblem } from '../../src/acme/problem.js';
import { AuthFailure } from '../../src/auth/failure.js';
import { OAuthError } from '../../src/auth/tokens/oauth-error.js';
import { Refusal } from '../../src/contract/refusal-error.js';
import { PolicyFailure } from '../../src/ra/failure.js';

const FRAME = /\n\s+at /;

test('refusals and OAuth errors carry no stack frames; a plain Error does', () => {
  const limit = Error.stackTraceLimit;
  const answers: Error[] = [
    new Refusal('not_found', 'no such thing', 'look elsewhere'),
    new AuthFailure('credentials_invalid', 'the user name or password is not right', 'check them', {
      code: 'unknown_user',
      name: 'nobody',
      hashed: false,
    }),
    new PolicyFailure('csr_invalid', 'the CSR is unreadable', 'make a new one', {
      facts: { code: 'csr_rejected', field: 'der' },
    }),
    new OAuthError('invalid_grant', 'the refresh token is not valid', 'sign in again', {
      code: 'refresh_token_unknown',
    }),
    new AcmeProblem('malformed', 'acme_malformed', 'the JWS is malformed', 'use an ACME client'),
  ];
  for (const e of answers) {
    assert.doesNotMatch(e.stack ?? '', FRAME, e.name);
    assert.ok(e.message.length > 0, e.name);
  }
  assert.equal(Error.stackTraceLimit, limit, 'the limit is restored');
  // The positive control: the same check finds the frames of an ordinary error.
  assert.match(new Error('a bug').stack ?? '', FRAME);
});
