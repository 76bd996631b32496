/** Authentication and authorization: the front door's refusals (src/auth), and the enrollment and transport refusals raised with them. Assembled, in this order, by ../refusals.ts. */
import type { RefusalEntry } from '../refusal-entry.js';

export const AUTH_REFUSALS = {
  // -- Authentication (401 carries WWW-Authenticate, RFC 9110 §15.5.2) --------------------------
  credentials_missing: {
    status: 401,
    title: 'Credentials are required',
    meaning: 'The request carried no credentials and what it asked for needs them.',
    oauthError: null,
    layer: 'auth',
    remedy: 'Sign in (`certmaster login`) or send a token: `Authorization: Bearer TOKEN`.',
  },
  scheme_unsupported: {
    status: 401,
    title: 'This authentication scheme is not accepted',
    meaning:
      'The Authorization header used a scheme this server does not accept (switched off, unknown, or Basic over plain HTTP).',
    oauthError: null,
    layer: 'auth',
    remedy: 'Use one of the schemes the answer names as enabled, or enable the scheme on the server.',
  },
  credentials_malformed: {
    status: 401,
    title: 'The credentials are malformed',
    meaning:
      'The Authorization header does not parse, or a Digest response names an algorithm or realm not offered.',
    oauthError: 'invalid_request',
    layer: 'auth',
    remedy: 'Fix the client; compare with `curl --basic -u USER https://SERVER/v1/whoami`.',
  },
  credentials_invalid: {
    status: 401,
    title: 'The credentials are not valid',
    meaning:
      'The user name, password, Digest response or client secret is not right; the caller is never told which.',
    oauthError: 'invalid_grant',
    layer: 'auth',
    remedy:
      'Check the user name and password; an operator reads the exact cause with `certmaster explain ID`.',
  },
  account_disabled: {
    status: 401,
    title: 'The account is disabled',
    meaning: 'The credentials were right but the account (or the account a token acts for) is disabled.',
    oauthError: 'invalid_grant',
    layer: 'auth',
    remedy: 'An administrator enables the account: `certmaster user enable NAME`.',
  },
  nonce_stale: {
    status: 401,
    title: 'The digest nonce is stale',
    meaning: 'The Digest nonce expired or its count was replayed; the challenge says stale=true.',
    oauthError: null,
    layer: 'auth',
    remedy: 'Nothing: a Digest client retries with the new nonce without asking for the password.',
  },
  token_expired: {
    status: 401,
    title: 'The token has expired',
    meaning: 'The access, API or enrollment token is past its expiry.',
    oauthError: 'invalid_grant',
    layer: 'auth',
    remedy: 'Sign in again, or create a new token (`certmaster token create`).',
  },
  token_not_yet_valid: {
    status: 401,
    title: 'The token is not valid yet',
    meaning: 'The access token starts in the future: the clocks of the issuing server and this one disagree.',
    oauthError: null,
    layer: 'auth',
    remedy: 'Synchronise the clocks with NTP (`certmaster doctor --peer URL` measures the skew).',
  },
  token_revoked: {
    status: 401,
    title: 'The token was revoked',
    meaning: 'The token, its sign-in, or the account it acts for was revoked, logged out or removed.',
    oauthError: 'invalid_grant',
    layer: 'auth',
    remedy: 'Sign in again, or create a new token.',
  },
  token_invalid: {
    status: 401,
    title: 'The token is not valid',
    meaning:
      'The token is unknown, malformed, signed by a key this server does not know, or meant for another audience.',
    oauthError: 'invalid_grant',
    layer: 'auth',
    remedy: 'Use a token this server issued: sign in again or create a new token.',
  },
  enrollment_token_used_up: {
    // 401 with error="invalid_token": a token with no uses left no longer authenticates (RFC 6750
    // §3.1), whether the authenticator sees it used up or the RA loses the race for the last use.
    status: 401,
    title: 'The enrollment token is used up',
    meaning: 'The enrollment token has no uses left (another request may have taken the last one).',
    oauthError: null,
    layer: 'auth',
    remedy: 'Ask an operator for a new enrollment token: `certmaster token create --enroll NAME --uses 1`.',
  },
  client_certificate_invalid: {
    status: 401,
    title: 'The client certificate is not valid',
    meaning: 'The TLS client certificate is not one this CA issued, or it is expired or revoked.',
    oauthError: null,
    layer: 'auth',
    remedy: 'Renew the host certificate, or authenticate another way.',
  },
  insufficient_scope: {
    status: 403,
    title: 'The token lacks the scope this needs',
    meaning: 'The account may do this, but the token used does not carry the scope (RFC 6750 §3.1).',
    oauthError: 'invalid_scope',
    layer: 'auth',
    remedy: 'Use a token with the scope the answer names, or sign in again.',
  },
  forbidden: {
    status: 403,
    title: 'Not allowed for this account',
    meaning: "The caller is known, but its account's role does not allow this.",
    oauthError: 'unauthorized_client',
    layer: 'auth',
    remedy: 'Use an account whose role allows it, or ask an administrator for one.',
  },
  too_many_attempts: {
    status: 429,
    title: 'Too many failed attempts',
    meaning:
      'Too many failed attempts from this address or for this name; Retry-After says how long to wait.',
    oauthError: 'slow_down',
    layer: 'auth',
    remedy:
      'Wait for the delay, and find what keeps sending wrong credentials. Retrying at once only waits longer: each 429 is held up to auth.throttle_tarpit_ms before it is sent.',
  },
  request_rejected: {
    status: 403,
    title: 'An operator rejected the request',
    meaning: 'An operator rejected this certificate request; the same CSR is always answered the same way.',
    oauthError: null,
    layer: 'ra',
    remedy: 'Make a new key and CSR and ask the operator why before enrolling again.',
  },
  insecure_transport: {
    status: 400,
    title: 'Secrets are refused over plain HTTP from another machine',
    meaning:
      'A password or client secret was sent over plain HTTP from a non-loopback address, where anyone on the path could read it.',
    oauthError: 'invalid_request',
    layer: 'auth',
    remedy:
      'Use the https:// URL of the server (or run the client on the server itself); then change the secret that was sent.',
  },
} as const satisfies Record<string, RefusalEntry>;
