import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseGracePeriod } from '../../src/domain/grace-period.js';
import { describeSeconds, parseDuration } from '../../src/util/durations.js';

describe('durations: one reader and one teller of a length of time', () => {
  test('parseDuration reads s, m, h and d, and a bare number as seconds', () => {
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('15m'), 900);
    assert.equal(parseDuration('12h'), 43_200);
    assert.equal(parseDuration('7d'), 604_800);
    assert.equal(parseDuration('3600'), 3600);
    assert.equal(parseDuration(' 7 d '), 604_800, 'spaces around and before the unit');
  });

  test('parseDuration refuses zero, other units, signs and fractions', () => {
    for (const text of ['0', '0s', '', 'soon', '2w', '1M', '-5m', '1.5h', '1h30m', '1234567890s']) {
      assert.equal(parseDuration(text), null, text);
    }
  });

  test('unitRequired refuses a bare number; zero takes 0', () => {
    assert.equal(parseDuration('30', { unitRequired: true }), null);
    assert.equal(parseDuration('30m', { unitRequired: true }), 1800);
    assert.equal(parseDuration('0d', { zero: true }), 0);
  });

  test('the grace period reads through it: none, 0 or a duration with a unit, at most 90d', () => {
    assert.equal(parseGracePeriod('none'), 0);
    assert.equal(parseGracePeriod('0'), 0);
    assert.equal(parseGracePeriod('0s'), 0);
    assert.equal(parseGracePeriod('7d'), 7 * 86_400_000);
    assert.equal(parseGracePeriod('12H'), 12 * 3_600_000, 'the setting is read in any case');
    assert.throws(
      () => parseGracePeriod('30'),
      /^Error: "30" is not none, or a duration such as 30m, 12h or 7d \(at most 90d\)$/,
    );
    assert.throws(() => parseGracePeriod('2w'), /"2w" is not none/);
    assert.throws(() => parseGracePeriod('91d'), /longer than 90d/);
  });

  test('describeSeconds rounds to the largest unit; exact tells a given length back unrounded', () => {
    assert.equal(describeSeconds(86_400), '24 hours');
    assert.equal(describeSeconds(49 * 3600), '2 days');
    assert.equal(describeSeconds(86_400, { exact: true }), '1 day');
    assert.equal(describeSeconds(49 * 3600, { exact: true }), '49 hours');
    assert.equal(describeSeconds(30 * 86_400, { exact: true }), '30 days');
    assert.equal(describeSeconds(3600, { exact: true }), '1 hour');
    assert.equal(describeSeconds(15 * 60, { exact: true }), '15 minutes');
    assert.equal(describeSeconds(90, { exact: true }), '90 seconds');
    assert.equal(describeSeconds(1, { exact: true }), '1 second');
  });
});
