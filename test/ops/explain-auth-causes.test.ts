/**
 * The last refusals whose advice `explain` once read out of message text (a token acting for a
 * disabled owner, a refused client certificate) and the OAuth refresh-token refusals now carry typed
 * causes: the advice comes from the typed cause, the words may change freely, and the same words
 * without a typed cause get only the general advice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditEvent } from '../../src/audit/types.js';
import { describeCause } from '../../src/contract/cause-words.js';
import type { RefusalCause } from '../../src/contract/refusal-cause.js';
import type { Reason } from '../../src/contract/refusals.js';
import { oauthDecisionEvent } from '../../src/http/audit-events.js';
import {
  explainFixture,
  frontDoorRefusal,
  type RecordMaker,
  type TypedCauseCase,
  typedCauseTests,
} from '../helpers/explain-fixture.js';

const at = '2030-01-01T12:00:00.000Z';

describe('typed causes of the front door keep the words the audit records had', () => {
  test('describeCause says what the records said before the causes were typed', () => {
    const cases: Array<[RefusalCause, string]> = [
      [
        { code: 'token_owner_disabled', token: 'tok_a', owner: 'bob' },
        'API token tok_a: owner bob is disabled',
      ],
      [
        {
          code: 'client_certificate_rejected',
          problem: 'revoked',
          serial: '0a1b',
          at,
          revocationReason: 'keyCompromise',
        },
        `client certificate 0a1b revoked at ${at} (keyCompromise)`,
      ],
      [
        { code: 'client_certificate_rejected', problem: 'expired', serial: '0a1b', at },
        `client certificate 0a1b expired at ${at}`,
      ],
      [
        {
          code: 'client_certificate_rejected',
          problem: 'foreign_issuer',
          serial: '0a1b',
          issuer: 'CN=Other',
        },
        'client certificate serial 0a1b not signed by this CA (issuer CN=Other)',
      ],
      [{ code: 'refresh_token_unknown' }, 'no refresh token has this hash'],
      [
        { code: 'refresh_token_expired', token: 'rt_1', family: 'rtf_1', at },
        `refresh token rt_1 (family rtf_1) expired at ${at}`,
      ],
      [
        {
          code: 'refresh_token_reused',
          token: 'rt_1',
          family: 'rtf_1',
          usedAt: at,
          revokedAt: null,
          revokedCount: 3,
        },
        `refresh token reuse detected: family rtf_1 revoked (token rt_1 was already used at ${at}; 3 tokens revoked)`,
      ],
      [
        { code: 'refresh_owner_gone', account: 'carol', family: 'rtf_2', removed: false },
        'account carol disabled: family rtf_2 revoked',
      ],
      [{ code: 'credentials_absent', route: 'whoami' }, 'whoami without credentials'],
      [{ code: 'credentials_unparsable', part: 'bearer', why: 'empty' }, 'empty Bearer credentials'],
      [
        { code: 'scheme_disabled', scheme: 'unregistered', length: 48, enabled: ['Basic'] },
        'scheme an unregistered scheme of 48 characters not enabled',
      ],
      [
        { code: 'oauth_request_malformed', problem: 'parameter_missing', parameter: 'grant_type' },
        'no grant_type',
      ],
      [
        { code: 'client_not_allowed', client: 'svc', act: 'password_grant' },
        'password grant attempted by client svc',
      ],
    ];
    for (const [cause, text] of cases) assert.equal(describeCause(cause), text);
  });
});

describe('explain: front-door advice comes from the typed cause, never from the words', () => {
  const fixture = explainFixture('explain-auth-causes');

  /** An OAuth token endpoint refusal, recorded as the server records it. */
  function oauthRefusal(requestId: string, reason: Reason, cause: string, typed?: RefusalCause): AuditEvent {
    return oauthDecisionEvent(
      {
        requestId,
        endpoint: 'token',
        outcome: 'refused',
        grantType: 'refresh_token',
        clientId: 'certmaster-cli',
        subject: 'alice',
        error: 'invalid_grant',
        status: 400,
        reason,
        internalCause: cause,
        ...(typed ? { facts: typed } : {}),
        description: 'refused',
        hint: 'sign in again',
        clientAddress: '192.0.2.11',
      },
      new Date(),
    );
  }

  const now = new Date().toISOString();
  const cases: Array<TypedCauseCase & { make: RecordMaker }> = [
    {
      make: frontDoorRefusal,
      reason: 'account_disabled',
      typed: { code: 'token_owner_disabled', token: 'tok_d1', owner: 'bob' },
      oldWords: 'API token tok_d1: owner bob is disabled',
      expect: /account bob is disabled \(the token tok_d1 acts for it\)[\s\S]*user enable bob/,
    },
    {
      make: frontDoorRefusal,
      reason: 'client_certificate_invalid',
      typed: {
        code: 'client_certificate_rejected',
        problem: 'revoked',
        serial: '0c',
        at: now,
        revocationReason: 'superseded',
      },
      oldWords: `client certificate 0c revoked at ${now} (superseded)`,
      expect: /A revoked certificate never authenticates again/,
    },
    {
      make: frontDoorRefusal,
      reason: 'client_certificate_invalid',
      typed: { code: 'client_certificate_rejected', problem: 'expired', serial: '0d', at: now },
      oldWords: `client certificate 0d expired at ${now}`,
      expect: /let its certificate expire/,
    },
    {
      make: frontDoorRefusal,
      reason: 'client_certificate_invalid',
      typed: { code: 'client_certificate_rejected', problem: 'not_yet_valid', serial: '0e', at: now },
      oldWords: `client certificate 0e not valid before ${now}`,
      expect: /synchronise both with NTP/,
    },
    {
      make: oauthRefusal,
      reason: 'token_revoked',
      typed: {
        code: 'refresh_token_reused',
        token: 'rt_9',
        family: 'rtf_9',
        usedAt: now,
        revokedAt: null,
        revokedCount: 2,
      },
      oldWords: `refresh token reuse detected: family rtf_9 revoked (token rt_9 was already used at ${now}; 2 tokens revoked)`,
      expect: /used a second time[\s\S]*leaked/,
    },
    {
      make: oauthRefusal,
      reason: 'token_revoked',
      typed: {
        code: 'refresh_token_reused',
        token: 'rt_8',
        family: 'rtf_8',
        usedAt: null,
        revokedAt: now,
        revokedCount: 1,
      },
      oldWords: `refresh token reuse detected: family rtf_8 revoked (token rt_8 was revoked at ${now}; 1 tokens revoked)`,
      expect: /had ended \(logged out or revoked[\s\S]*Nothing suggests a leak/,
    },
    {
      make: oauthRefusal,
      reason: 'token_revoked',
      typed: { code: 'refresh_owner_gone', account: 'carol', family: 'rtf_7', removed: false },
      oldWords: 'account carol disabled: family rtf_7 revoked',
      expect: /acts for the account carol, which was disabled[\s\S]*user enable carol/,
    },
    {
      make: oauthRefusal,
      reason: 'token_expired',
      typed: { code: 'refresh_token_expired', token: 'rt_6', family: 'rtf_6', at: now },
      oldWords: `refresh token rt_6 (family rtf_6) expired at ${now}`,
      expect: /sign-in of alice has ended/,
    },
    {
      make: oauthRefusal,
      reason: 'token_invalid',
      typed: { code: 'refresh_token_unknown' },
      oldWords: 'no refresh token has this hash',
      expect: /refresh token is not one this server issued/,
    },
    {
      make: oauthRefusal,
      reason: 'token_invalid',
      typed: {
        code: 'refresh_token_foreign',
        token: 'rt_5',
        issuedTo: 'certmaster-cli',
        presentedBy: 'svc-a',
      },
      oldWords: 'refresh token rt_5 of client certmaster-cli presented by client svc-a',
      expect: /issued to the client certmaster-cli and presented by svc-a/,
    },
  ];

  typedCauseTests(fixture, 'auth', cases, frontDoorRefusal);

  // A CLI user sees no WWW-Authenticate header: the advice names, in words, the schemes that were on.
  test('scheme_unsupported names the schemes that were on (auth.bearer false), not the headers', async () => {
    const typed: RefusalCause = { code: 'scheme_disabled', scheme: 'Bearer', enabled: ['Digest', 'Basic'] };
    const advice = await fixture.advice(
      frontDoorRefusal('auth-schemes-1', 'scheme_unsupported', describeCause(typed), typed),
    );
    assert.match(advice, /one of the schemes this server accepted then: Digest or Basic, or enable Bearer/);
    assert.match(advice, /config set auth\.bearer true/);
    assert.doesNotMatch(advice, /WWW-Authenticate/);
  });

  test('scheme_unsupported with one scheme on, and with none', async () => {
    const one: RefusalCause = { code: 'scheme_disabled', scheme: 'Digest', enabled: ['Basic'] };
    const advice = await fixture.advice(
      frontDoorRefusal('auth-schemes-2', 'scheme_unsupported', describeCause(one), one),
    );
    assert.match(advice, /use the scheme this server accepted then: Basic, or enable Digest/);
    const none: RefusalCause = { code: 'scheme_disabled', scheme: 'Negotiate', enabled: [] };
    const nothing = await fixture.advice(
      frontDoorRefusal('auth-schemes-3', 'scheme_unsupported', describeCause(none), none),
    );
    assert.match(nothing, /accepted no authentication scheme at the time/);
    assert.doesNotMatch(nothing, /WWW-Authenticate|Bearer, Digest or Basic/);
  });

  test('an OAuth refusal keeps its typed cause in the audit record', async () => {
    const typed: RefusalCause = { code: 'refresh_token_unknown' };
    const event = oauthRefusal('auth-record-1', 'token_invalid', describeCause(typed), typed);
    assert.deepEqual(event.details.cause, typed);
  });
});
