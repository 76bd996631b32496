import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { printable, quoted, withoutUnsafe } from '../../src/util/terminal-text.js';

const UNSAFE = [
  '\u0000',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00ad',
  '\u061c',
  '\u200b',
  '\u200e',
  '\u2028',
  '\u202e',
  '\u2066',
  '\u2069',
  '\ufeff',
];

describe('terminal text: one rule for what may reach a terminal', () => {
  test('printable replaces every unsafe character with ? and keeps the rest', () => {
    for (const c of UNSAFE) assert.equal(printable(`a${c}b`), 'a?b', JSON.stringify(c));
    assert.equal(printable('host-é.example.com'), 'host-é.example.com');
    assert.equal(printable('abcdef', 3), 'abc…');
  });

  test('withoutUnsafe removes them', () => {
    for (const c of UNSAFE) assert.equal(withoutUnsafe(`a${c}b`), 'ab');
  });

  test('quoted escapes them as \\uXXXX inside JSON quotes', () => {
    for (const c of UNSAFE) {
      const out = quoted(`a${c}b`);
      assert.ok(!out.includes(c), out);
      assert.match(out, /^"a\\u[0-9a-f]{4}b"$/);
    }
    assert.equal(quoted('x'.repeat(100), 5), '"xxxxx…"');
  });
});
