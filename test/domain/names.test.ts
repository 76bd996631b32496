import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  isNameProblem,
  type NameProblem,
  parseIpAddress,
  quoteForDisplay,
  validateDnsName,
  validateRequestedNames,
} from '../../src/domain/names.js';

const strict = { allowWildcard: false };
const lenient = { allowWildcard: true };

function refusal(result: string | NameProblem): NameProblem {
  assert.ok(isNameProblem(result), `expected a refusal, got ${JSON.stringify(result)}`);
  return result;
}

describe('validateDnsName', () => {
  it('accepts host names and returns them lower-cased', () => {
    assert.equal(validateDnsName('Web1.Example.COM', strict), 'web1.example.com');
    assert.equal(validateDnsName('localhost', strict), 'localhost');
    assert.equal(validateDnsName('a-b.c-d.example', strict), 'a-b.c-d.example');
    assert.equal(validateDnsName('3com.example.com', strict), '3com.example.com');
    assert.equal(validateDnsName('xn--bcher-kva.example', strict), 'xn--bcher-kva.example');
  });

  it('accepts the longest label and the longest name, and refuses one character more', () => {
    const label63 = 'a'.repeat(63);
    assert.equal(validateDnsName(`${label63}.example.com`, strict), `${label63}.example.com`);
    assert.match(
      refusal(validateDnsName(`${label63}a.example.com`, strict)).reason,
      /64 characters; .* at most 63/,
    );
    const name253 = `${'a'.repeat(61)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}`;
    assert.equal(name253.length, 253);
    assert.equal(validateDnsName(name253, strict), name253);
    assert.match(
      refusal(validateDnsName(`a${name253}`, strict)).reason,
      /254 characters long; .* at most 253/,
    );
  });

  it('explains a path separator in words', () => {
    assert.deepEqual(validateDnsName('web/1.example.com', strict), {
      name: 'web/1.example.com',
      reason: '"web/1.example.com" contains "/", which is not allowed in a host name (RFC 1123)',
    });
    assert.match(refusal(validateDnsName('web\\1.example.com', strict)).reason, /contains "\\\\"/);
  });

  const refused: Array<[string, RegExp]> = [
    ['', /empty/],
    ['example.com.', /ends with a dot/],
    ['a..example.com', /empty label/],
    ['.example.com', /empty label/],
    ['web 1.example.com', /contains a space/],
    ['-web.example.com', /starts or ends with a hyphen/],
    ['web-.example.com', /starts or ends with a hyphen/],
    ['web_1.example.com', /contains "_"/],
    ['user@example.com', /contains "@"/],
    ['example.com:443', /contains ":"/],
    ['host.123', /all-numeric/],
    ['10.0.0.1', /is an IP address/],
    ['::1', /is an IP address/],
    ['bücher.example', /A-label form \(xn--/],
    ['xn--abcdef.example', /not a valid A-label/],
    ['xn--a.example', /not a valid A-label/],
    ['ab--cd.example', /reserved \(RFC 5891/],
  ];
  for (const [name, reason] of refused) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      const problem = refusal(validateDnsName(name, lenient));
      assert.match(problem.reason, reason);
      assert.equal(problem.name, name);
    });
  }

  it('shows control characters escaped, so nothing unprintable reaches a terminal', () => {
    for (const name of [
      'web\u0000.example.com',
      'web\u001b[2J.example.com',
      'web\u009b.example.com',
      'a\tb.com',
    ]) {
      const problem = refusal(validateDnsName(name, strict));
      assert.match(problem.reason, /control character/);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting none are present
      assert.doesNotMatch(problem.reason, /[\u0000-\u001f\u007f-\u009f]/);
    }
    assert.equal(quoteForDisplay('a\u0000b'), '"a\\u0000b"');
    assert.equal(quoteForDisplay('a\u009bb\u202ec'), '"a\\u009bb\\u202ec"');
  });

  it('cuts a very long name short in the problem it reports', () => {
    const problem = refusal(validateDnsName('a'.repeat(100_000), strict));
    assert.ok(problem.name.length <= 81);
    assert.ok(problem.reason.length < 300);
  });

  it('allows a wildcard only as the whole leftmost label, and only when allowed', () => {
    assert.equal(validateDnsName('*.Example.com', lenient), '*.example.com');
    assert.match(refusal(validateDnsName('*.example.com', strict)).reason, /does not issue wildcard names/);
    assert.match(refusal(validateDnsName('*.com', lenient)).reason, /at least two labels/);
    assert.match(refusal(validateDnsName('*', lenient)).reason, /at least two labels/);
    for (const name of [
      'a.*.example.com',
      '*a.example.com',
      'w*.example.com',
      '*.*.example.com',
      '**.example.com',
    ]) {
      assert.match(refusal(validateDnsName(name, lenient)).reason, /whole leftmost label/, name);
    }
  });
});

describe('parseIpAddress', () => {
  const canonical: Array<[string, string]> = [
    ['192.0.2.1', '192.0.2.1'],
    ['2001:DB8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['2001:0db8::0001', '2001:db8::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::FFFF:c000:0201', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.1', '64:ff9b::c000:201'],
  ];
  for (const [text, expected] of canonical) {
    it(`writes ${text} as ${expected} (RFC 5952)`, () => assert.equal(parseIpAddress(text), expected));
  }

  for (const text of [
    '01.2.3.4',
    '1.2.3',
    '256.1.1.1',
    'fe80::1%eth0',
    '1:::2',
    'example.com',
    '',
    ' 1.2.3.4',
  ]) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseIpAddress(text), null));
  }

  it('refuses an over-long text without parsing it', () => {
    assert.equal(parseIpAddress(`${'0:'.repeat(5000)}1`), null);
  });

  it('agrees with the WHATWG URL serialiser on every IPv6 address that is not IPv4-mapped', () => {
    const group = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    fc.assert(
      fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
        const text = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
        const ours = parseIpAddress(text);
        const whatwg = new URL(`http://[${text}]/`).hostname.slice(1, -1);
        const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
        if (!mapped) assert.equal(ours, whatwg);
        assert.ok(ours !== null);
        assert.equal(parseIpAddress(ours), ours);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('validateRequestedNames', () => {
  const policy = { allowWildcards: false, maxNames: 5 };
  const none = { dnsNames: [], ipAddresses: [], otherNameKinds: [] };

  it('puts the common name among the SANs and removes duplicates regardless of case', () => {
    const result = validateRequestedNames(
      {
        commonName: 'Web1.Example.com',
        dnsNames: ['web1.example.com', 'WWW.example.com', 'www.example.com'],
        ipAddresses: ['2001:DB8::1', '2001:db8:0:0::1'],
        otherNameKinds: [],
      },
      policy,
    );
    assert.deepEqual(result, {
      ok: true,
      commonName: 'web1.example.com',
      dnsNames: ['web1.example.com', 'www.example.com'],
      ipAddresses: ['2001:db8::1'],
    });
  });

  it('accepts an IP address as the common name and lists it as an IP SAN', () => {
    assert.deepEqual(validateRequestedNames({ commonName: '192.0.2.7', ...none }, policy), {
      ok: true,
      commonName: '192.0.2.7',
      dnsNames: [],
      ipAddresses: ['192.0.2.7'],
    });
  });

  it('requires a common name', () => {
    for (const commonName of [null, '']) {
      const result = validateRequestedNames({ commonName, ...none, dnsNames: ['a.example.com'] }, policy);
      assert.equal(result.ok, false);
      if (!result.ok) assert.match(result.problems[0]?.reason ?? '', /no common name/);
    }
  });

  it('takes the first DNS name as the CN when asked (ACME CSRs carry their names only as SANs)', () => {
    const result = validateRequestedNames(
      { commonName: null, ...none, dnsNames: ['a.example.com', 'b.example.com'] },
      { ...policy, commonNameFromFirstDnsName: true },
    );
    assert.equal(result.ok, true);
    if (result.ok) {
      assert.equal(result.commonName, 'a.example.com');
      assert.deepEqual(result.dnsNames, ['a.example.com', 'b.example.com']);
    }
  });

  it('reports every bad name at once', () => {
    const result = validateRequestedNames(
      {
        commonName: 'web/1.example.com',
        dnsNames: ['ok.example.com', 'bad_name.example.com', '*.example.com'],
        ipAddresses: ['300.1.1.1'],
        otherNameKinds: ['rfc822Name', 'rfc822Name', 'uniformResourceIdentifier'],
      },
      policy,
    );
    assert.equal(result.ok, false);
    if (result.ok) return;
    const reasons = result.problems.map((p) => p.reason);
    assert.equal(reasons.length, 6);
    assert.match(reasons[0] ?? '', /^the common name: "web\/1.example.com" contains "\/"/);
    assert.match(reasons[1] ?? '', /contains "_"/);
    assert.match(reasons[2] ?? '', /does not issue wildcard names/);
    assert.match(reasons[3] ?? '', /"300.1.1.1" is not an IPv4 or IPv6 address/);
    assert.match(reasons[4] ?? '', /"rfc822Name" subject alternative name; only DNS names and IP addresses/);
    assert.match(reasons[5] ?? '', /"uniformResourceIdentifier"/);
  });

  it('allows a wildcard when the policy does', () => {
    const result = validateRequestedNames(
      { commonName: '*.web.example.com', ...none },
      { allowWildcards: true, maxNames: 5 },
    );
    assert.deepEqual(result, {
      ok: true,
      commonName: '*.web.example.com',
      dnsNames: ['*.web.example.com'],
      ipAddresses: [],
    });
  });

  it('counts names after de-duplication, common name included, against the limit', () => {
    const four = ['a.example.com', 'b.example.com', 'c.example.com', 'd.example.com'];
    const atLimit = validateRequestedNames(
      {
        commonName: 'a.example.com',
        ...none,
        dnsNames: [...four, 'A.example.com'],
        ipAddresses: ['192.0.2.1'],
      },
      policy,
    );
    assert.equal(atLimit.ok, true);
    const over = validateRequestedNames(
      { commonName: 'e.example.com', ...none, dnsNames: four, ipAddresses: ['192.0.2.1'] },
      policy,
    );
    assert.equal(over.ok, false);
    if (!over.ok)
      assert.match(over.problems[0]?.reason ?? '', /asks for 6 names .* at most 5 per certificate/);
  });

  it('refuses a flood of names without validating each one', () => {
    const flood = Array.from({ length: 5000 }, (_, i) => `h${i}.example.com`);
    const result = validateRequestedNames({ commonName: 'a.example.com', ...none, dnsNames: flood }, policy);
    assert.equal(result.ok, false);
    if (!result.ok) {
      assert.equal(result.problems.length, 1);
      assert.match(result.problems[0]?.reason ?? '', /asks for 5001 names/);
    }
  });
});
