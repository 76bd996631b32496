import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dictionary } from '@zxcvbn-ts/language-common';
import {
  checkPassword,
  MAX_PASSWORD_CODE_POINTS,
  normalizePassword,
  type PasswordPolicyCode,
  PasswordPolicyError,
} from '../../src/auth/password-policy.js';

const user = { username: 'alice' };

function refusal(pw: string, username = 'alice'): PasswordPolicyError {
  try {
    checkPassword(pw, { username });
  } catch (err) {
    assert.ok(err instanceof PasswordPolicyError, `expected PasswordPolicyError, got ${String(err)}`);
    return err;
  }
  assert.fail(`expected ${JSON.stringify(pw)} to be refused`);
}

function assertRefused(pw: string, code: PasswordPolicyCode, username = 'alice'): PasswordPolicyError {
  const err = refusal(pw, username);
  assert.equal(err.code, code, err.message);
  return err;
}

describe('normalizePassword', () => {
  it('applies NFKC: fullwidth letters become ASCII, decomposed accents are composed', () => {
    assert.equal(normalizePassword('ｐａｓｓ'), 'pass');
    assert.equal(normalizePassword('c\u0302iela'), '\u0109iela');
    assert.equal(normalizePassword('ﬁne'), 'fine');
  });

  it('changes nothing else (case, spaces, punctuation)', () => {
    assert.equal(normalizePassword('  Correct Horse, Battery!  '), '  Correct Horse, Battery!  ');
  });
});

describe('checkPassword', () => {
  it('accepts a 12-character passphrase of Unicode letters', () => {
    assert.equal([...'ĉielarkoŝafo'].length, 12);
    checkPassword('ĉielarkoŝafo', user);
  });

  it('accepts spaces, punctuation and emoji, counting code points rather than UTF-16 units', () => {
    checkPassword('correct horse battery staple', user);
    checkPassword('🐎🔋📎🧲🐎🔋📎🧲🐎🔋📎🧲', user);
    assertRefused('🐎🔋📎🧲🐎🔋📎🧲🐎🔋📎', 'too_short');
  });

  it('refuses fewer than 12 characters with a message that says how many and what to do', () => {
    const err = assertRefused('sunflower', 'too_short');
    assert.match(err.message, /has 9 characters; use at least 12/);
    assert.match(err.message, /passphrase/);
  });

  it('counts length after normalisation', () => {
    // 13 code points as typed, 11 once the combining circumflexes are composed.
    const typed = 'c\u0302ielarkos\u0302af';
    assert.equal([...typed].length, 13);
    assertRefused(typed, 'too_short');
  });

  it('refuses more than 256 characters and accepts exactly 256', () => {
    const exactly = 'horse, battery'.repeat(20).slice(0, MAX_PASSWORD_CODE_POINTS);
    checkPassword(exactly, user);
    const err = assertRefused(`${exactly}x`, 'too_long');
    assert.match(err.message, /has 257 characters; use at most 256/);
    assertRefused('x'.repeat(100_000), 'too_long');
  });

  it('refuses control characters, including C1 controls and lone surrogates', () => {
    for (const pw of ['correct horse\tbattery', 'correct horse\nbattery', 'correct\u0085horse battery']) {
      const err = assertRefused(pw, 'invalid_characters');
      assert.match(err.message, /printable/);
    }
    assertRefused('correct horse \uD800battery', 'invalid_characters');
  });

  it('refuses a password from the zxcvbn-ts common list, case-insensitively', () => {
    const common = dictionary['passwords-common'];
    assert.ok(common.includes('password1234'), 'password1234 is in the list');
    const err = assertRefused('password1234', 'common');
    assert.equal(
      err.message,
      'this password is in a list of commonly used passwords (zxcvbn-ts common dictionary); choose another',
    );
    assertRefused('PassWord1234', 'common');
    assert.ok(common.includes('1qaz2wsx3edc'));
    assertRefused('1qaz2wsx3edc', 'common');
  });

  it('refuses every long entry of the common list', () => {
    const long = dictionary['passwords-common'].filter((p) => [...p].length >= 12 && !p.includes('alice'));
    assert.ok(long.length > 100);
    for (const pw of long) {
      assertRefused(pw, 'common');
    }
  });

  it('refuses a fullwidth spelling of a common password (NFKC first)', () => {
    assertRefused('ｐａｓｓｗｏｒｄ１２３４', 'common');
  });

  it('refuses a password that equals or contains the user name, case-insensitively', () => {
    assertRefused('my-Alice-is-great-2024', 'contains_username');
    const err = assertRefused('averylongusername', 'contains_username', 'AVeryLongUserName');
    assert.match(err.message, /user name/);
  });

  it('does not compare user names shorter than 3 characters', () => {
    checkPassword('always albatross tea', { username: 'al' });
  });

  it('has no composition rules: all lower-case letters are fine', () => {
    checkPassword('purplemonkeydishwasher', user);
  });
});
