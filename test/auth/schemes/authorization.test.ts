import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  isMalformed,
  MAX_AUTHORIZATION_LENGTH,
  type ParsedAuthorization,
  parseAuthorization,
  quoteString,
} from '../../../src/auth/schemes/authorization.js';

/** A header as Node.js hands it over: the UTF-8 octets of `text`, one character each. */
function wire(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function parsed(header: string): ParsedAuthorization {
  const result = parseAuthorization(header);
  if (isMalformed(result)) assert.fail(`expected a parse, got malformed: ${result.malformed}`);
  return result;
}

function malformed(header: string): { malformed: string; scheme: string | null } {
  const result = parseAuthorization(header);
  if (!isMalformed(result)) assert.fail(`expected malformed for ${JSON.stringify(header.slice(0, 80))}`);
  return result as { malformed: string; scheme: string | null };
}

describe('parseAuthorization: RFC 9110 §11.4 credentials', () => {
  it('lower-cases the scheme and keeps a token68 with its trailing "=" padding', () => {
    const result = parsed('BASIC dXNlcjpwYXNz==');
    assert.equal(result.scheme, 'basic');
    assert.equal(result.token68, 'dXNlcjpwYXNz==');
    assert.equal(result.params.size, 0);
  });

  it('accepts a scheme alone (no credentials after it)', () => {
    const result = parsed('Negotiate');
    assert.deepEqual([result.scheme, result.token68, result.params.size], ['negotiate', null, 0]);
  });

  it('reads the token68 alphabet of §11.2, including - . _ ~ + /', () => {
    assert.equal(parsed('Bearer a-b.c_d~e+f/g=').token68, 'a-b.c_d~e+f/g=');
  });

  it('reads auth-params: lower-cased names, token or quoted-string values, OWS and empty list elements', () => {
    const result = parsed(
      'Digest  Username="Mufasa" ,realm = "http-auth@example.org",, nc=00000001 ,  qop=auth ,',
    );
    assert.equal(result.scheme, 'digest');
    assert.equal(result.token68, null);
    assert.deepEqual(Object.fromEntries(result.params), {
      username: 'Mufasa',
      realm: 'http-auth@example.org',
      nc: '00000001',
      qop: 'auth',
    });
  });

  it('unescapes quoted-pairs and keeps commas and "=" inside quoted strings', () => {
    const result = parsed('Digest username="a\\"b\\\\c, d=e", uri="/x?a=b,c"');
    assert.equal(result.params.get('username'), 'a"b\\c, d=e');
    assert.equal(result.params.get('uri'), '/x?a=b,c');
  });

  it('decodes UTF-8 octets in quoted values (what clients send after charset=UTF-8)', () => {
    const result = parsed(wire('Digest username="Jäsøn Doe"'));
    assert.equal(result.params.get('username'), 'Jäsøn Doe');
  });

  it('treats "a=b" as an auth-param but "abc=" as a token68 (a param needs a value)', () => {
    assert.equal(parsed('Bearer abc=').token68, 'abc=');
    assert.equal(parsed('Bearer abc=d').params.get('abc'), 'd');
  });

  for (const [header, why] of [
    ['', 'no scheme'],
    ['   ', 'no scheme'],
    ['"Basic" abc', 'no scheme'],
    ['Basic,abc', 'no space after the scheme'],
    ['Digest username, realm=x', 'name without value'],
    ['Digest a=b, username', 'trailing name without value'],
    ['Digest username=, realm=x', 'empty value'],
    ['Digest username="abc', 'unterminated quoted string'],
    ['Digest username="a\\', 'dangling escape'],
    ['Digest username="a\x01b"', 'control character in a quoted string'],
    ['Digest a=b c=d', 'missing comma'],
    ['Digest a=b, A=c', 'duplicate name, case-insensitively'],
    ['Bearer abc def', 'two token68s'],
    ['Digest u="\xff\xfe"', 'invalid UTF-8'],
    ['Digest u="\u0100"', 'characters that are not octets'],
  ] as const) {
    it(`refuses: ${why}`, () => {
      const result = malformed(header);
      assert.ok(result.malformed.length > 0);
    });
  }

  it('names the scheme in a malformed result once the scheme parsed', () => {
    assert.equal(malformed('Digest username, realm=x').scheme, 'digest');
    assert.equal(parsed('Digest username').token68, 'username');
    assert.equal(malformed('').scheme, null);
  });

  it('never echoes a parameter value in the reason', () => {
    const result = malformed('Digest response="s3cret-value-here", response="s3cret-value-here"');
    assert.doesNotMatch(result.malformed, /s3cret/);
  });

  it('bounds the header length and the number of params', () => {
    assert.match(malformed(`Bearer ${'a'.repeat(MAX_AUTHORIZATION_LENGTH)}`).malformed, /longer than 8192/);
    assert.equal(parsed(`Bearer ${'a'.repeat(MAX_AUTHORIZATION_LENGTH - 7)}`).token68?.length, 8185);
    const params = (n: number) => Array.from({ length: n }, (_, i) => `p${i}=v`).join(', ');
    assert.equal(parsed(`Digest ${params(32)}`).params.size, 32);
    assert.match(malformed(`Digest ${params(33)}`).malformed, /more than 32/);
  });

  it('never throws and returns a result or malformed, for arbitrary and grammar-shaped input', () => {
    const token = fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{0,12}$/);
    const quoted = fc.string({ maxLength: 20 }).map((s) => `"${s.replace(/"/g, '\\"')}"`);
    const param = fc
      .tuple(token, fc.constantFrom('=', ' = ', '='), fc.oneof(token, quoted))
      .map((p) => p.join(''));
    const header = fc.oneof(
      fc.string({ maxLength: MAX_AUTHORIZATION_LENGTH + 10 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc
        .tuple(
          token,
          fc.constantFrom(' ', '  ', '\t', ''),
          fc.array(param, { maxLength: 40 }),
          fc.constantFrom(',', ', ', ' ,'),
        )
        .map(([s, sp, ps, sep]) => `${s}${sp}${ps.join(sep)}`),
      fc.tuple(token, fc.base64String({ maxLength: 200 })).map(([s, b]) => `${s} ${b}`),
    );
    fc.assert(
      fc.property(header, (h) => {
        const result = parseAuthorization(h);
        if (isMalformed(result)) {
          assert.equal(typeof result.malformed, 'string');
        } else {
          assert.match(result.scheme, /^[!#$%&'*+\-.^_`|~0-9a-z]+$/);
          assert.ok(result.token68 === null || result.params.size === 0);
          assert.ok(result.params.size <= 32);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips any printable value through quoteString', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x20-\x7e\t]{0,50}$/), (value) => {
        const result = parsed(`X p=${quoteString(value)}`);
        assert.equal(result.params.get('p'), value);
      }),
    );
  });

  it('quoteString refuses what a quoted-string cannot carry', () => {
    assert.throws(() => quoteString('a\nb'), RangeError);
    assert.throws(() => quoteString('é'), RangeError);
  });
});
