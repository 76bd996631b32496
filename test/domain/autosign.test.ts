import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AutosignPatternError, autosignAllows, parseAutosign } from '../../src/domain/autosign.js';

describe('parseAutosign', () => {
  it('reads off and all', () => {
    assert.deepEqual(parseAutosign('off'), { mode: 'off' });
    assert.deepEqual(parseAutosign(' ALL '), { mode: 'all' });
  });

  it('reads comma-separated patterns, lower-cased, without duplicates', () => {
    assert.deepEqual(parseAutosign('*.Web.example.com, db1.example.com,*.web.example.com'), {
      mode: 'patterns',
      patterns: [
        { kind: 'wildcard', parent: 'web.example.com' },
        { kind: 'exact', name: 'db1.example.com' },
      ],
    });
  });

  const bad: Array<[string, RegExp]> = [
    [
      '*.*.x',
      /"\*\.\*\.x" has "\*" where it is not allowed; a wildcard may only be the whole leftmost label/,
    ],
    ['web.*.example.com', /whole leftmost label/],
    ['*.com', /at least two labels/],
    ['a.example.com,,b.example.com', /empty pattern/],
    ['a.example.com,', /empty pattern/],
    ['', /empty/],
    ['all,a.example.com', /"all" cannot be combined/],
    ['192.0.2.1', /is an IP address/],
    ['web/1.example.com', /contains "\/"/],
  ];
  for (const [value, message] of bad) {
    it(`refuses ${JSON.stringify(value)} with a clear message`, () => {
      assert.throws(
        () => parseAutosign(value),
        (err: unknown) => err instanceof AutosignPatternError && message.test(err.message),
      );
    });
  }

  it('refuses an absurdly long value before splitting it', () => {
    assert.throws(() => parseAutosign('a.example.com,'.repeat(10_000)), /at most 8192/);
  });
});

describe('autosignAllows', () => {
  const policy = parseAutosign('*.web.example.com,db1.example.com');

  it('allows one extra label under a wildcard pattern, and nothing else', () => {
    assert.equal(autosignAllows(policy, ['a.web.example.com']), true);
    assert.equal(autosignAllows(policy, ['A.WEB.Example.com']), true);
    assert.equal(autosignAllows(policy, ['a.b.web.example.com']), false);
    assert.equal(autosignAllows(policy, ['web.example.com']), false);
    assert.equal(autosignAllows(policy, ['aweb.example.com']), false);
    assert.equal(autosignAllows(policy, ['a.web.example.com.evil.test']), false);
  });

  it('matches exact patterns exactly', () => {
    assert.equal(autosignAllows(policy, ['db1.example.com']), true);
    assert.equal(autosignAllows(policy, ['DB1.example.com']), true);
    assert.equal(autosignAllows(policy, ['db10.example.com']), false);
    assert.equal(autosignAllows(policy, ['x.db1.example.com']), false);
  });

  it('requires every name to match', () => {
    assert.equal(autosignAllows(policy, ['a.web.example.com', 'db1.example.com']), true);
    assert.equal(autosignAllows(policy, ['a.web.example.com', 'db2.example.com']), false);
  });

  it('never lets a DNS pattern allow an IP address or a requested wildcard', () => {
    assert.equal(autosignAllows(policy, ['a.web.example.com', '192.0.2.1']), false);
    assert.equal(autosignAllows(parseAutosign('*.web.example.com'), ['*.web.example.com']), false);
    assert.equal(
      autosignAllows(parseAutosign('all'), ['a.web.example.com', '192.0.2.1', '2001:db8::1']),
      true,
    );
  });

  it('allows nothing when off, and nothing for an empty name list', () => {
    assert.equal(autosignAllows(parseAutosign('off'), ['db1.example.com']), false);
    assert.equal(autosignAllows(parseAutosign('all'), []), false);
    assert.equal(autosignAllows(policy, []), false);
  });
});

describe('label patterns such as web-*.example.com', () => {
  it('match one label with that prefix and suffix, and nothing more', () => {
    const policy = parseAutosign('web-*.example.com, db*-eu.example.org');
    assert.equal(autosignAllows(policy, ['web-1.example.com']), true);
    assert.equal(autosignAllows(policy, ['WEB-prod7.example.com']), true);
    assert.equal(
      autosignAllows(policy, ['web-.example.com']),
      false,
      'the star stands for at least one character',
    );
    assert.equal(autosignAllows(policy, ['web-1.a.example.com']), false);
    assert.equal(autosignAllows(policy, ['mail-1.example.com']), false);
    assert.equal(autosignAllows(policy, ['db7-eu.example.org']), true);
    assert.equal(autosignAllows(policy, ['db7-us.example.org']), false);
  });

  it('refuse a star under a top-level domain and characters a host name cannot have', () => {
    assert.throws(() => parseAutosign('web-*.com'), /two labels/);
    assert.throws(() => parseAutosign('we_b-*.example.com'));
    assert.throws(() => parseAutosign('web-**.example.com'));
  });
});
