import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type BasicCredentials,
  basicChallenge,
  MAX_BASIC_TOKEN_LENGTH,
  parseBasicCredentials,
} from '../../../src/auth/schemes/basic.js';

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

function ok(token68: string | null): BasicCredentials {
  const result = parseBasicCredentials(token68);
  if ('malformed' in result) assert.fail(`expected credentials, got: ${result.malformed}`);
  return result;
}

function refused(token68: string | null): string {
  const result = parseBasicCredentials(token68);
  if (!('malformed' in result)) assert.fail('expected malformed');
  return result.malformed;
}

describe('parseBasicCredentials (RFC 7617)', () => {
  it('decodes the RFC 7617 §2 example Aladdin:open sesame', () => {
    assert.deepEqual(ok('QWxhZGRpbjpvcGVuIHNlc2FtZQ=='), { userId: 'Aladdin', password: 'open sesame' });
  });

  it('decodes UTF-8 (the RFC 7617 §2.1 example "test" / "123£")', () => {
    assert.deepEqual(ok('dGVzdDoxMjPCow=='), { userId: 'test', password: '123£' });
  });

  it('splits at the first colon: the user-id cannot contain one, the password can (§2)', () => {
    assert.deepEqual(ok(b64('alice:pa:ss:')), { userId: 'alice', password: 'pa:ss:' });
    assert.deepEqual(ok(b64('alice:')), { userId: 'alice', password: '' });
  });

  it('refuses a missing token68 or one without a colon', () => {
    assert.match(refused(null), /base64/);
    assert.match(refused(''), /base64/);
    assert.match(refused(b64('alice')), /no colon/);
  });

  it('refuses invalid base64: alphabet, padding, unpadded, non-canonical pad bits, base64url', () => {
    for (const bad of [
      'YWxp*2U6cHc=',
      'YWxpY2U6cHc',
      'YWxpY2U6cHc==',
      'YW=xpY2U6cHc=',
      'YWxpY2U6cHd=',
      'YWxp-2U6cHc=',
    ]) {
      assert.match(refused(bad), /base64/, bad);
    }
  });

  it('refuses invalid UTF-8 (a Latin-1 client ignoring charset="UTF-8")', () => {
    const latin1 = Buffer.from('user:123\xa3', 'latin1').toString('base64');
    assert.match(refused(latin1), /UTF-8/);
  });

  it('refuses control characters in the user-id and the password (§2)', () => {
    assert.match(refused(b64('ali\x00ce:pw')), /user-id contains control/);
    assert.match(refused(b64('ali\x7fce:pw')), /user-id contains control/);
    assert.match(refused(b64('alice:p\nw')), /password contains control/);
  });

  it('bounds the token length', () => {
    assert.match(refused('A'.repeat(MAX_BASIC_TOKEN_LENGTH + 4)), /longer than/);
  });

  it('never throws, for arbitrary strings and for base64 of arbitrary bytes', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 8192 }),
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.base64String({ maxLength: 5000 }),
          fc.uint8Array({ maxLength: 3000 }).map((bytes) => Buffer.from(bytes).toString('base64')),
        ),
        (token) => {
          const result = parseBasicCredentials(token);
          if ('malformed' in result) assert.equal(typeof result.malformed, 'string');
          else assert.ok(!result.userId.includes(':'));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('round-trips any user-id without ":" or controls and any password without controls', () => {
    const noControls = (s: string) => !/\p{Cc}/u.test(s);
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }).filter((s) => noControls(s) && !s.includes(':')),
        fc.string({ unit: 'grapheme', maxLength: 40 }).filter(noControls),
        (userId, password) => {
          assert.deepEqual(ok(b64(`${userId}:${password}`)), { userId, password });
        },
      ),
    );
  });
});

describe('basicChallenge', () => {
  it('announces charset="UTF-8" with the realm quoted (RFC 7617 §2.1)', () => {
    assert.equal(basicChallenge('certmaster'), 'Basic realm="certmaster", charset="UTF-8"');
    assert.equal(basicChallenge('a "b"'), 'Basic realm="a \\"b\\"", charset="UTF-8"');
  });
});
