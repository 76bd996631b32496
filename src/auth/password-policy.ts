/**
 * Which passwords an account may choose: NIST SP 800-63B §5.1.1.2 (memorized secret verifiers).
 * Length and a check against commonly used passwords; no composition rules ("one digit, one
 * symbol"), because NIST found they make passwords harder to remember and no harder to guess.
 */
import { createRequire } from 'node:module';

export const MIN_PASSWORD_CODE_POINTS = 12;
export const MAX_PASSWORD_CODE_POINTS = 256;
/**
 * Longer than any password the policy accepts can be before normalisation (NFKC composes at most a
 * few code points into one, each at most two UTF-16 units), so longer input is refused without
 * spending time normalising it.
 */
export const MAX_PASSWORD_INPUT_UNITS = 4096;
/** A user name shorter than this matches too many passwords by accident to be worth refusing. */
const MIN_USERNAME_CODE_POINTS = 3;

export type PasswordPolicyCode =
  | 'too_short'
  | 'too_long'
  | 'common'
  | 'contains_username'
  | 'invalid_characters';

export class PasswordPolicyError extends Error {
  readonly code: PasswordPolicyCode;

  constructor(code: PasswordPolicyCode, message: string) {
    super(message);
    this.name = 'PasswordPolicyError';
    this.code = code;
  }
}

/**
 * NIST SP 800-63B §5.1.1.2: apply NFKC before hashing, so the same password typed on another
 * keyboard or input method (fullwidth forms, ligatures, composed accents) still matches.
 */
export function normalizePassword(pw: string): string {
  return pw.normalize('NFKC');
}

/** Control characters (C0, DEL, C1) and lone surrogates, which are not Unicode characters at all. */
const INVALID_CHARACTER = /\p{Cc}|\p{Cs}/u;

/** Throws PasswordPolicyError when `pw` may not be chosen as the password of `context.username`. */
export function checkPassword(pw: string, context: { username: string }): void {
  if (pw.length > MAX_PASSWORD_INPUT_UNITS) {
    throw tooLong(`more than ${MAX_PASSWORD_INPUT_UNITS}`);
  }
  const normalized = normalizePassword(pw);
  if (INVALID_CHARACTER.test(normalized)) {
    throw new PasswordPolicyError(
      'invalid_characters',
      'the password contains a control character (such as a tab, newline or escape); use only printable characters',
    );
  }
  const length = codePointCount(normalized);
  if (length < MIN_PASSWORD_CODE_POINTS) {
    throw new PasswordPolicyError(
      'too_short',
      `the password has ${length} characters; use at least ${MIN_PASSWORD_CODE_POINTS} (a passphrase of several words is easiest)`,
    );
  }
  if (length > MAX_PASSWORD_CODE_POINTS) {
    throw tooLong(String(length));
  }
  const lowered = normalized.toLowerCase();
  const username = normalizePassword(context.username).toLowerCase();
  if (codePointCount(username) >= MIN_USERNAME_CODE_POINTS && lowered.includes(username)) {
    throw new PasswordPolicyError(
      'contains_username',
      'the password contains the user name, which is the first thing an attacker tries; choose one that does not',
    );
  }
  if (commonPasswords().has(lowered)) {
    throw new PasswordPolicyError(
      'common',
      'this password is in a list of commonly used passwords (zxcvbn-ts common dictionary); choose another',
    );
  }
}

function tooLong(length: string): PasswordPolicyError {
  return new PasswordPolicyError(
    'too_long',
    `the password has ${length} characters; use at most ${MAX_PASSWORD_CODE_POINTS}`,
  );
}

function codePointCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

let common: Set<string> | undefined;

/**
 * The zxcvbn-ts list of ~49,000 common passwords (NIST's "passwords obtained from previous breach
 * corpuses" and "commonly-used values"). Loaded on first use, not at import: decompressing it costs
 * tens of milliseconds and most processes never change a password.
 */
function commonPasswords(): Set<string> {
  if (common === undefined) {
    const require = createRequire(import.meta.url);
    const language = require('@zxcvbn-ts/language-common') as typeof import('@zxcvbn-ts/language-common');
    common = new Set(language.dictionary['passwords-common'].map((p) => p.toLowerCase()));
  }
  return common;
}
