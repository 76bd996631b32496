/**
 * The OAuth refusals the grants and client authentication share: the throttle said as `slow_down`,
 * a failed password check said without telling whether the account exists, a missing parameter.
 */
import type { AuthFailure } from '../failure.js';
import { OAuthError } from '../tokens/oauth-error.js';

export type Params = Readonly<Record<string, string | undefined>>;

export const LOGIN_HINT = 'check the user name and password, then run `certmaster login` again';

/** The throttle's refusal as RFC 8628's `slow_down`, with a whole number of seconds to wait. */
export function slowDown(failure: AuthFailure): OAuthError {
  return new OAuthError('slow_down', failure.detail, failure.hint, failure.facts, {
    reason: 'too_many_attempts',
    retryAfterSeconds: Math.ceil(failure.retryAfterSeconds ?? 60),
  });
}

/** Unknown user and wrong password give the same answer; the audit log keeps which it was. */
export function passwordFailure(failure: AuthFailure, username: string): OAuthError {
  const claimedName = failure.claimedName ?? username;
  if (failure.reason === 'too_many_attempts') {
    const slow = slowDown(failure);
    return new OAuthError(slow.error, slow.description, slow.hint, slow.facts, {
      reason: 'too_many_attempts',
      retryAfterSeconds: slow.retryAfterSeconds,
      claimedName,
    });
  }
  if (failure.reason === 'credentials_invalid') {
    return new OAuthError(
      'invalid_grant',
      'the user name or password is not correct',
      LOGIN_HINT,
      failure.facts,
      { reason: 'credentials_invalid', claimedName },
    );
  }
  return new OAuthError('invalid_grant', failure.detail, failure.hint, failure.facts, {
    reason: failure.reason,
    claimedName,
  });
}

/** The value of a parameter that must be present and non-empty; OAuthError invalid_request otherwise. */
export function required(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') {
    throw new OAuthError('invalid_request', `${name} is missing`, `send ${name}`, {
      code: 'oauth_request_malformed',
      problem: 'parameter_missing',
      parameter: name,
    });
  }
  return value;
}
