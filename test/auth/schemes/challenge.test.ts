import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  bearerChallenge,
  buildChallenges,
  type ChallengeOptions,
  challengeTemplate,
  sanitizeErrorDescription,
} from '../../../src/auth/challenge.js';
import { basicChallenge } from '../../../src/auth/schemes/basic.js';
import { type DigestAlgorithm, digestChallenge } from '../../../src/auth/schemes/digest.js';

/**
 * An independent validator of the RFC 9110 §11.3 challenge grammar:
 *   challenge = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 * plus §11.5: realm, when present, is a quoted-string.
 */
const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e]|\\\\[\\t \\x21-\\x7e])*"';
const PARAM = `${TOKEN}[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED})`;
const CHALLENGE = new RegExp(
  `^${TOKEN}(?: +(?:[A-Za-z0-9\\-._~+/]+=*|${PARAM}(?:[ \\t]*,[ \\t]*${PARAM})*))?$`,
);

function assertChallengeGrammar(challenge: string): void {
  assert.match(challenge, CHALLENGE, `not an RFC 9110 challenge: ${challenge}`);
  const realm = /(?:^\S+ |, )realm=(\S)/i.exec(challenge);
  if (realm) assert.equal(realm[1], '"', `realm must be quoted: ${challenge}`);
}

/** Splits a challenge's auth-params (after the validator passed) into a name -> raw value map. */
function paramsOf(challenge: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = new RegExp(`(${TOKEN})[ \\t]*=[ \\t]*(${TOKEN}|${QUOTED})`, 'g');
  for (const m of challenge.slice(challenge.indexOf(' ') + 1).matchAll(re)) out.set(m[1] ?? '', m[2] ?? '');
  return out;
}

const options = (overrides: Partial<ChallengeOptions> = {}): ChallengeOptions => ({
  realm: 'certmaster',
  basic: true,
  digestAlgorithms: ['SHA-256'],
  bearer: true,
  nonce: () => 'NONCE',
  opaque: 'OPAQUE',
  digestUserhash: true,
  ...overrides,
});

describe('the challenge validator itself', () => {
  it('accepts RFC examples and rejects near misses', () => {
    for (const good of [
      'Basic realm="simple"',
      'Newauth realm="apps", type=1, title="Login to \\"apps\\""',
      'Bearer abc==',
      'Negotiate',
    ]) {
      assertChallengeGrammar(good);
    }
    for (const bad of [
      'Basic realm=simple',
      'Basic  realm="a" "b"',
      'Basic realm="a',
      'Bearer x="a\nb"',
      ' Basic',
    ]) {
      assert.throws(() => assertChallengeGrammar(bad), bad);
    }
  });
});

describe('bearerChallenge (RFC 6750 §3)', () => {
  it('carries no error attributes when no token was presented', () => {
    assert.equal(bearerChallenge('certmaster'), 'Bearer realm="certmaster"');
    assert.equal(
      bearerChallenge('certmaster', { errorDescription: 'ignored without error' }),
      'Bearer realm="certmaster"',
    );
  });

  it('carries error, error_description and scope when given', () => {
    assert.equal(
      bearerChallenge('certmaster', {
        error: 'insufficient_scope',
        errorDescription: 'needs requests:approve',
        scope: 'requests:approve',
      }),
      'Bearer realm="certmaster", scope="requests:approve", error="insufficient_scope", error_description="needs requests:approve"',
    );
  });

  it('sanitises error_description to %x20-21 / %x23-5B / %x5D-7E', () => {
    assert.equal(sanitizeErrorDescription('bad "aud" \\ in\ttoken é'), "bad 'aud' / in token ?");
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        const challenge = bearerChallenge('r', { error: 'invalid_token', errorDescription: text });
        assertChallengeGrammar(challenge);
        const description = paramsOf(challenge).get('error_description') ?? '';
        assert.match(description, /^"[\x20\x21\x23-\x5b\x5d-\x7e]*"$/);
        assert.ok(description.length <= 202);
      }),
    );
  });

  it('refuses a scope that is not scope tokens (a bug, not caller input)', () => {
    assert.throws(() => bearerChallenge('r', { scope: 'a "b"' }), RangeError);
    assert.throws(() => bearerChallenge('r', { scope: '' }), RangeError);
  });
});

describe('buildChallenges', () => {
  it('gives one challenge per scheme and algorithm: Bearer, Digest SHA-256, SHA-512-256, MD5, Basic', () => {
    const challenges = buildChallenges(options({ digestAlgorithms: ['MD5', 'SHA-512-256', 'SHA-256'] }));
    assert.deepEqual(
      challenges.map((c) => `${c.split(' ')[0]} ${paramsOf(c).get('algorithm') ?? ''}`.trim()),
      ['Bearer', 'Digest SHA-256', 'Digest SHA-512-256', 'Digest MD5', 'Basic'],
    );
  });

  it('is the challenge contract: Digest SHA-256 with userhash, MD5 for legacy clients, Basic with charset', () => {
    assert.deepEqual(buildChallenges(options({ digestAlgorithms: ['SHA-256', 'MD5'], bearer: false })), [
      'Digest realm="certmaster", qop="auth", algorithm=SHA-256, nonce="NONCE", opaque="OPAQUE", charset=UTF-8, userhash=true',
      'Digest realm="certmaster", qop="auth", algorithm=MD5, nonce="NONCE", opaque="OPAQUE", charset=UTF-8, userhash=true',
      'Basic realm="certmaster", charset="UTF-8"',
    ]);
  });

  it('asks for one nonce and shares it; asks for none when Digest is off', () => {
    let calls = 0;
    const nonce = () => `n${++calls}`;
    const challenges = buildChallenges(options({ nonce, digestAlgorithms: ['SHA-256', 'MD5'] }));
    assert.equal(calls, 1);
    assert.deepEqual(
      challenges.filter((c) => c.startsWith('Digest')).map((c) => paramsOf(c).get('nonce')),
      ['"n1"', '"n1"'],
    );
    buildChallenges(options({ nonce, digestAlgorithms: [] }));
    assert.equal(calls, 1);
  });

  it('marks every Digest challenge stale, and only puts bearer errors in the Bearer challenge', () => {
    const challenges = buildChallenges(
      options({
        digestAlgorithms: ['SHA-256', 'MD5'],
        stale: true,
        bearerError: { error: 'invalid_token', errorDescription: 'the token expired' },
      }),
    );
    for (const c of challenges) {
      assert.equal(paramsOf(c).get('stale'), c.startsWith('Digest') ? 'true' : undefined);
      assert.equal(paramsOf(c).has('error'), c.startsWith('Bearer'));
    }
  });

  it('omits disabled schemes and duplicate algorithms', () => {
    assert.deepEqual(buildChallenges(options({ basic: false, bearer: false, digestAlgorithms: [] })), []);
    assert.equal(buildChallenges(options({ digestAlgorithms: ['SHA-256', 'SHA-256'] })).length, 3);
  });

  it('always produces RFC 9110 challenges, for any realm, nonce, opaque and options', () => {
    const printable = fc.stringMatching(/^[\x20-\x7e\t]{0,40}$/);
    const algorithms = fc.subarray<DigestAlgorithm>(['SHA-256', 'SHA-512-256', 'MD5']);
    fc.assert(
      fc.property(
        printable,
        printable,
        printable,
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        algorithms,
        fc.option(fc.string({ unit: 'binary', maxLength: 100 }), { nil: undefined }),
        (realm, nonce, opaque, basic, bearer, stale, digestAlgorithms, description) => {
          const challenges = buildChallenges({
            realm,
            basic,
            bearer,
            stale,
            digestAlgorithms,
            nonce: () => nonce,
            opaque,
            digestUserhash: stale,
            ...(description === undefined
              ? {}
              : {
                  bearerError: { error: 'invalid_token', errorDescription: description, scope: 'audit:read' },
                }),
          });
          assert.equal(challenges.length, Number(basic) + Number(bearer) + digestAlgorithms.length);
          for (const c of challenges) {
            assertChallengeGrammar(c);
            assert.ok(paramsOf(c).has('realm'));
          }
        },
      ),
      { numRuns: 500 },
    );
    assertChallengeGrammar(basicChallenge('x'));
    assertChallengeGrammar(
      digestChallenge({
        realm: 'x',
        algorithm: 'MD5',
        nonce: 'n',
        opaque: 'o',
        userhash: false,
        domain: ['/a', '/b'],
      }),
    );
  });
});

describe('prebuilt challenges', () => {
  const kinds = [
    { basic: true, bearer: true, digestAlgorithms: ['SHA-256'] as const, stale: false },
    { basic: false, bearer: true, digestAlgorithms: ['SHA-256', 'MD5'] as const, stale: true },
    { basic: true, bearer: false, digestAlgorithms: [] as const, stale: false },
    { basic: false, bearer: true, digestAlgorithms: [] as const, stale: false },
  ];
  for (const kind of kinds) {
    it(`equal the challenges built whole (${JSON.stringify(kind)}), with a fresh nonce each time`, () => {
      const options = {
        realm: 'certmaster "test"',
        opaque: 'opaque-value',
        digestUserhash: true,
        ...kind,
        digestAlgorithms: [...kind.digestAlgorithms],
      };
      const template = challengeTemplate(options);
      let issued = 0;
      const nonce = () => `nonce-${++issued}`;
      const first = template.fill(nonce);
      const second = template.fill(nonce);
      let again = 0;
      assert.deepEqual(first, buildChallenges({ ...options, nonce: () => `nonce-${++again}` }));
      assert.deepEqual(second, buildChallenges({ ...options, nonce: () => `nonce-${++again}` }));
      // The nonce is drawn once per response, and only when a Digest challenge carries it.
      assert.equal(issued, kind.digestAlgorithms.length > 0 ? 2 : 0);
    });
  }
});
