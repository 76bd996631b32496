/** The agent's timing: capped exponential backoff with jitter, the jitter bound, and the opening time a refusal names. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffMs, maxJitterMs, opensAtFromDetail } from '../../src/client/agent-schedule.js';

test('backoff doubles from the start, randomised between half and all of it, and never passes the cap', () => {
  const top = () => 1;
  const bottom = () => 0;
  assert.equal(backoffMs(1, 10_000, 3_600_000, top), 10_000);
  assert.equal(backoffMs(2, 10_000, 3_600_000, top), 20_000);
  assert.equal(backoffMs(4, 10_000, 3_600_000, top), 80_000);
  assert.equal(backoffMs(4, 10_000, 3_600_000, bottom), 40_000);
  assert.equal(backoffMs(30, 10_000, 3_600_000, top), 3_600_000);
  assert.equal(backoffMs(10_000, 10_000, 3_600_000, top), 3_600_000);
  for (let i = 0; i < 100; i++) {
    const d = backoffMs(3, 10_000, 3_600_000);
    assert.ok(d >= 20_000 && d <= 40_000, String(d));
  }
});

test('jitter is at most 5% of the lifetime and at most an hour', () => {
  assert.equal(maxJitterMs(3_600_000), 180_000);
  assert.equal(maxJitterMs(90 * 86_400_000), 3_600_000);
  assert.equal(maxJitterMs(0), 0);
});

test('the opening time is read from a renewal_not_yet_open detail', () => {
  const at = opensAtFromDetail(
    'renewal of certificate 0a opens at 2027-02-02T05:08:12.600Z, after 66% of its lifetime (ra.renew_window = 0.66)',
  );
  assert.equal(at?.toISOString(), '2027-02-02T05:08:12.600Z');
  assert.equal(opensAtFromDetail('something else'), null);
  assert.equal(opensAtFromDetail(undefined), null);
});
