/** The SDK's refusal carries the reason typed, from the same table the server answers from. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REASONS, type Reason, ServerRefusal } from '../../src/client/transport.js';

test('ServerRefusal.reason is a Reason the compiler knows, or undefined for a code it does not', () => {
  const known = new ServerRefusal(401, { reason: 'enrollment_token_used_up', detail: 'no uses left' });
  const reason: Reason | undefined = known.reason;
  assert.equal(reason, 'enrollment_token_used_up');
  assert.ok(REASONS.includes('credentials_invalid'));
  const unknown = new ServerRefusal(400, { reason: 'something_from_the_future' });
  assert.equal(unknown.reason, undefined);
  assert.equal(unknown.problem.reason, 'something_from_the_future');
});
