/**
 * Token refusals carry a typed cause, and `explain` advises from it alone: the words of the cause
 * may be reworded (or come from another version) without changing the advice. The audit text the
 * typed causes produce is the text the records had before they were typed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { describeCause } from '../../src/contract/cause-words.js';
import type { RefusalCause } from '../../src/contract/refusal-cause.js';
import {
  explainFixture,
  frontDoorRefusal,
  type TypedCauseCase,
  typedCauseTests,
} from '../helpers/explain-fixture.js';

describe('typed causes of token refusals', () => {
  test('describeCause says what the records said before the causes were typed', () => {
    const at = '2030-01-01T12:00:00.000Z';
    const cases: Array<[RefusalCause, string]> = [
      [{ code: 'token_revoked', kind: 'opaque', token: 'tok_abc', at }, `token tok_abc revoked at ${at}`],
      [
        { code: 'token_revoked', kind: 'access', token: 'jti-1', at, family: 'rtf_x' },
        `access token jti jti-1 (family rtf_x) revoked at ${at}`,
      ],
      [
        { code: 'token_revoked', kind: 'access', token: 'jti-1', at },
        `access token jti jti-1 revoked at ${at}`,
      ],
      [
        { code: 'token_owner_removed', token: 'tok_abc', owner: 'bob' },
        'API token tok_abc: owner bob was removed',
      ],
      [{ code: 'token_expired', kind: 'opaque', token: 'tok_abc', at }, `token tok_abc expired at ${at}`],
      [
        { code: 'token_expired', kind: 'access', token: 'jti-1', at, subject: 'alice' },
        `access token jti jti-1 of alice expired at ${at}`,
      ],
      [{ code: 'enrollment_token_used_up', token: 'tok_e' }, 'enrollment token tok_e used up'],
      [{ code: 'token_unknown' }, 'no API or enrollment token has this hash'],
      [{ code: 'token_signing_key_unknown', kid: 'k1' }, 'unknown or removed signing key kid k1'],
      [
        { code: 'token_claim_mismatch', claim: 'aud', why: 'check_failed: unexpected "aud" claim value' },
        'claim aud check_failed: unexpected "aud" claim value',
      ],
      [{ code: 'token_signature_invalid' }, 'signature verification failed'],
      [
        { code: 'token_malformed', why: 'ERR_JWS_INVALID: Invalid Compact JWS' },
        'ERR_JWS_INVALID: Invalid Compact JWS',
      ],
    ];
    for (const [cause, text] of cases) assert.equal(describeCause(cause), text);
  });
});

describe('explain: token advice comes from the typed cause, never from the words', () => {
  const fixture = explainFixture('explain-token-causes');

  const at = new Date().toISOString();
  const cases: TypedCauseCase[] = [
    {
      reason: 'token_invalid',
      typed: { code: 'token_unknown' },
      oldWords: 'no API or enrollment token has this hash',
      expect: /not one this certmaster made/,
    },
    {
      reason: 'token_invalid',
      typed: { code: 'token_signing_key_unknown', kid: 'k1' },
      oldWords: 'unknown or removed signing key kid k1',
      expect: /signed by a key this server does not know/,
    },
    {
      reason: 'token_invalid',
      typed: {
        code: 'token_claim_mismatch',
        claim: 'iss',
        why: 'check_failed: unexpected "iss" claim value',
      },
      oldWords: 'claim iss check_failed: unexpected "iss" claim value',
      expect: /issued for another server address/,
    },
    {
      reason: 'token_invalid',
      typed: { code: 'token_signature_invalid' },
      oldWords: 'signature verification failed',
      expect: /signature does not verify/,
    },
    {
      reason: 'token_revoked',
      typed: { code: 'token_revoked', kind: 'access', token: 'jti-9', at },
      oldWords: `access token jti jti-9 revoked at ${at}`,
      expect: /The access token of alice was revoked/,
    },
    {
      reason: 'token_revoked',
      typed: { code: 'token_revoked', kind: 'opaque', token: 'tok_r1', at },
      oldWords: `token tok_r1 revoked at ${at}`,
      expect: /The token tok_r1 was revoked/,
    },
    {
      reason: 'token_revoked',
      typed: { code: 'token_owner_removed', token: 'tok_r2', owner: 'bob' },
      oldWords: 'API token tok_r2: owner bob was removed',
      expect: /acts for the account bob, which was removed/,
    },
    {
      reason: 'token_expired',
      typed: { code: 'token_expired', kind: 'access', token: 'jti-8', at, subject: 'alice' },
      oldWords: `access token jti jti-8 of alice expired at ${at}`,
      expect: /The access token of alice had expired/,
    },
    {
      reason: 'enrollment_token_used_up',
      typed: { code: 'enrollment_token_used_up', token: 'tok_u1' },
      oldWords: 'enrollment token tok_u1 used up',
      expect: /The enrollment token tok_u1 has no uses left/,
    },
  ];

  typedCauseTests(fixture, 'token', cases, frontDoorRefusal);
});
