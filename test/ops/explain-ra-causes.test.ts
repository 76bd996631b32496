/**
 * RA refusals carry a typed cause, and `explain` advises from it alone: the words of the cause and
 * of the detail may be reworded (or come from another version) without changing the advice.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AuditEvent } from '../../src/audit/types.js';
import type { RefusalCause } from '../../src/contract/refusal-cause.js';
import type { Reason } from '../../src/contract/refusals.js';
import { PolicyFailure } from '../../src/ra/failure.js';
import { checkKeyPolicy } from '../../src/ra/key-policy.js';
import { explainFixture, type TypedCauseCase, typedCauseTests } from '../helpers/explain-fixture.js';

describe('typed causes of RA refusals', () => {
  test('a refused key carries the rule it broke', () => {
    assert.throws(
      () => checkKeyPolicy({ kind: 'rsa', bits: 1024, exponent: 65537n } as never, 2048),
      (e: unknown) =>
        e instanceof PolicyFailure &&
        e.reason === 'key_too_weak' &&
        e.message === "the CSR's RSA key has 1024 bits; this CA requires at least 2048" &&
        e.facts?.code === 'key_rejected' &&
        e.facts.rule === 'rsa_too_small' &&
        e.facts.key === 'RSA 1024',
    );
    assert.throws(
      () => checkKeyPolicy({ kind: 'ed448' } as never, 2048),
      (e: unknown) =>
        e instanceof PolicyFailure && e.facts?.code === 'key_rejected' && e.facts.rule === 'ed448',
    );
  });
});

describe('explain: RA advice comes from the typed cause, never from the words', () => {
  const fixture = explainFixture('explain-ra-causes');

  function refusal(requestId: string, reason: Reason, words: string, typed?: RefusalCause): AuditEvent {
    return {
      at: new Date(),
      requestId,
      kind: 'request.submit',
      phase: 'response',
      outcome: 'failure',
      reason,
      principal: 'alice',
      claimedName: null,
      method: 'basic',
      credentialId: null,
      clientAddress: '192.0.2.10',
      cause: words,
      told: { status: 422, detail: words, hint: 'check' },
      target: 'web.example.com',
      details: typed ? { cause: typed } : {},
    };
  }

  const cases: TypedCauseCase[] = [
    {
      reason: 'name_invalid',
      typed: { code: 'names_invalid', names: ['*.example.com'], wildcardsDisallowed: ['*.example.com'] },
      oldWords: '"*.example.com" is a wildcard name, and this server does not issue wildcard names',
      expect: /ra\.allow_wildcards true/,
    },
    {
      reason: 'key_too_weak',
      typed: { code: 'key_rejected', rule: 'rsa_too_small', key: 'RSA 1024', minRsaBits: 3072 },
      oldWords: "the CSR's RSA key has 1024 bits; this CA requires at least 3072",
      expect: /The key is RSA 1024; generate an RSA key of at least 3072 bits/,
    },
  ];

  typedCauseTests(fixture, 'ra', cases, refusal);

  test('a name refused for another rule than wildcards does not advise allowing wildcards', async () => {
    const text = await fixture.advice(
      refusal('ra-typed-x', 'name_invalid', 'a wildcard is mentioned in these words', {
        code: 'names_invalid',
        names: ['*.com'],
        wildcardsDisallowed: [],
      }),
    );
    assert.doesNotMatch(text, /allow_wildcards/);
  });
});
