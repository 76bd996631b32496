/**
 * An ACME problem's status comes from the refusal table, like every other answer's: the ACME error
 * type says what kind of error it is, the reason which one (an RA refusal relayed to an ACME client
 * keeps the status the table gives it).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fromPolicyFailure, rejected } from '../../src/acme/input.js';
import { AcmeProblem } from '../../src/acme/problem.js';
import { REFUSALS, type Reason } from '../../src/contract/refusals.js';
import { PolicyFailure } from '../../src/ra/failure.js';

describe('ACME problems take their status from the refusal table', () => {
  test('every reason, under any ACME type', () => {
    for (const reason of Object.keys(REFUSALS) as Reason[]) {
      for (const type of ['malformed', 'unauthorized', 'serverInternal']) {
        assert.equal(
          new AcmeProblem(type, reason, 'd', 'h').status,
          REFUSALS[reason].status,
          `${type} ${reason}`,
        );
      }
    }
  });

  test('RA refusals relayed to an ACME client keep their status', () => {
    const cases: Array<[Reason, string, number]> = [
      ['name_not_allowed', 'rejectedIdentifier', 403],
      ['name_invalid', 'rejectedIdentifier', 400],
      ['csr_invalid', 'badCSR', 400],
      ['key_too_weak', 'badCSR', 400],
      ['ca_unavailable', 'unauthorized', 503],
      ['request_conflict', 'unauthorized', 409],
      ['request_vetoed', 'unauthorized', 403],
    ];
    for (const [reason, type, status] of cases) {
      const problem = fromPolicyFailure(
        new PolicyFailure(reason, 'refused', 'hint', {
          facts: { code: 'argument_invalid', argument: 'test', why: 'a test' },
        }),
      );
      assert.equal(problem.type, type, reason);
      assert.equal(problem.status, status, reason);
      assert.equal(problem.reason, reason);
    }
    assert.equal(
      rejected([
        { type: 'rejectedIdentifier', detail: 'no', identifier: { type: 'dns', value: 'x.example' } },
      ]).status,
      403,
    );
  });

  test('an explicit status is kept only where RFC 8555 names one (409 for a keyChange conflict)', () => {
    assert.equal(new AcmeProblem('malformed', 'acme_malformed', 'd', 'h', { status: 409 }).status, 409);
  });

  test('an ACME problem is a refusal without a stack trace', () => {
    const problem = new AcmeProblem('malformed', 'acme_malformed', 'the JWS is malformed', 'h');
    assert.doesNotMatch(problem.stack ?? '', /\n\s+at /);
    assert.equal(problem.message, 'the JWS is malformed');
  });
});
