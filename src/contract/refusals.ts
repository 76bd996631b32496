/**
 * Every reason certmaster gives for refusing a request: its HTTP status, the problem title, the
 * OAuth 2 error code a token endpoint answers with (RFC 6749 §5.2) where one applies, and the layer
 * that raises it. This is the only place a reason code is defined; `docs/refusals.md` is generated
 * from it (`npm run docs:refusals`) and a test fails when the two differ. No imports: the SDK, the
 * server and the docs generator all read it.
 */

/** The layer that decides the refusal. */
export type RefusalLayer = 'auth' | 'ra' | 'http' | 'oauth' | 'audit' | 'acme';

export interface RefusalEntry {
  readonly status: number;
  /** The problem+json `title` (RFC 9457 §3.1.4). */
  readonly title: string;
  /** What the reason means, for the reference documentation. */
  readonly meaning: string;
  /** The OAuth error code (RFC 6749 §5.2) the token endpoint answers with, when it raises this reason. */
  readonly oauthError: string | null;
  readonly layer: RefusalLayer;
  /** What the caller can do about it, in general; `certmaster explain ID` gives the exact fix. */
  readonly remedy: string;
  /** Set when no code path raises the reason yet, naming the work that will. */
  readonly reservedFor?: string;
}

export const REFUSALS = {
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
    reservedFor: 'mutual TLS renewal (not raised yet)',
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
    remedy: 'Wait for the delay, and find what keeps sending wrong credentials.',
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
  // -- OAuth 2 token endpoint (RFC 6749 §5.2) ----------------------------------------------------
  invalid_client: {
    status: 401,
    title: 'The client is not known or its secret is wrong',
    meaning: 'The OAuth client could not be authenticated (RFC 6749 §5.2).',
    oauthError: 'invalid_client',
    layer: 'oauth',
    remedy: 'Check the client id and secret; `certmaster client add` creates a client.',
  },
  invalid_grant: {
    status: 400,
    title: 'The grant is not valid',
    meaning: 'The authorization grant or refresh token is not valid, expired, revoked or already used.',
    oauthError: 'invalid_grant',
    layer: 'oauth',
    remedy: 'Sign in again: `certmaster login`.',
  },
  unauthorized_client: {
    status: 400,
    title: 'The client may not use this grant',
    meaning: 'The OAuth client is not allowed to use this grant type.',
    oauthError: 'unauthorized_client',
    layer: 'oauth',
    remedy: 'Use a grant the client is allowed (password for the CLI, client_credentials for services).',
  },
  unsupported_grant_type: {
    status: 400,
    title: 'The grant type is not supported',
    meaning: 'The token endpoint does not support the grant type asked for.',
    oauthError: 'unsupported_grant_type',
    layer: 'oauth',
    remedy:
      'Use password, client_credentials or refresh_token (see /.well-known/oauth-authorization-server).',
  },
  invalid_scope: {
    status: 400,
    title: 'The scope is not valid',
    meaning: 'The scope asked for is unknown or beyond what the account or client may have.',
    oauthError: 'invalid_scope',
    layer: 'oauth',
    remedy: 'Ask only for scopes the role allows.',
  },
  // -- Registration authority -------------------------------------------------------------------
  csr_invalid: {
    status: 400,
    title: 'The certificate signing request is not valid',
    meaning:
      'The CSR does not parse, its signature does not verify, or it asks for something this CA never signs.',
    oauthError: null,
    layer: 'ra',
    remedy: 'Make a new CSR; `certmaster request` makes a valid one.',
  },
  name_invalid: {
    status: 400,
    title: 'A requested name is not valid',
    meaning:
      'A requested name is not a host name (RFC 1123) or IP address, is a wildcard, or there are too many.',
    oauthError: null,
    layer: 'ra',
    remedy: 'Ask for host names or IP addresses only, within ra.max_names.',
  },
  key_too_weak: {
    status: 400,
    title: 'The public key is too weak',
    meaning: "The CSR's key is below ra.min_rsa_bits or of a kind this CA does not accept.",
    oauthError: null,
    layer: 'ra',
    remedy: 'Generate an EC P-256 key (the default of `certmaster request`) and send a new CSR.',
  },
  invalid_argument: {
    status: 400,
    title: 'An argument is not valid',
    meaning: 'An argument of an operator action is not valid (an unknown serial, a bad revocation reason).',
    oauthError: null,
    layer: 'ra',
    remedy: 'Fix the argument the answer names.',
  },
  name_not_allowed: {
    status: 403,
    title: 'The requested names are not allowed',
    meaning: 'The caller asked for names its account, enrollment token or autosign policy does not cover.',
    oauthError: null,
    layer: 'ra',
    remedy: 'Ask only for the names the credential allows, or get an enrollment token for the name.',
  },
  request_vetoed: {
    status: 403,
    title: 'A site check refused the request',
    meaning: 'A pre trigger of this site refused the action; its last output line says why.',
    oauthError: null,
    layer: 'ra',
    remedy: 'Fix what the trigger checks (scripts under triggers/EVENT/pre/ in the data directory).',
  },
  request_conflict: {
    status: 409,
    title: 'The request conflicts with an existing one',
    meaning: 'The name already holds a valid certificate for another key, or another CSR for it is pending.',
    oauthError: null,
    layer: 'ra',
    remedy: 'Wait for the pending request to be decided, or ask the operator about the name.',
  },
  not_pending: {
    status: 409,
    title: 'The request is not pending',
    meaning: 'An operator tried to sign or reject a request that was already decided.',
    oauthError: null,
    layer: 'ra',
    remedy: 'List the pending requests: `certmaster ca list --pending`.',
  },
  renewal_not_yet_open: {
    status: 403,
    title: 'Renewal is not open yet',
    meaning:
      'The certificate presented for renewal is younger than ra.renew_window of its lifetime; the answer says when renewal opens (and Retry-After how many seconds until then).',
    oauthError: null,
    layer: 'ra',
    remedy: 'Renew after the time the answer gives; `certmaster agent` waits for it by itself.',
  },
  renewal_after_expiry_refused: {
    status: 403,
    title: 'An expired certificate cannot be renewed',
    meaning:
      'The certificate presented for renewal has expired, and ra.renew_after_expiry allows no renewal after expiry (or its grace period has ended).',
    oauthError: null,
    layer: 'ra',
    remedy:
      'Enroll the host again with an account or an enrollment token, and run `certmaster agent` so it renews in time.',
  },
  renewal_names_changed: {
    status: 403,
    title: 'A renewal may not add names',
    meaning:
      'The renewal CSR asks for a common name or subjectAltName the certificate being renewed does not hold.',
    oauthError: null,
    layer: 'ra',
    remedy:
      'Renew for the same names (`certmaster renew` does); enroll with an account or a token for new names.',
  },
  renewal_same_key: {
    status: 403,
    title: 'A renewal needs a new key',
    meaning: 'The renewal CSR uses the key of the certificate being renewed, and ra.renew_same_key is false.',
    oauthError: null,
    layer: 'ra',
    remedy: 'Generate a new key for the renewal (`certmaster renew` does).',
  },
  ca_unavailable: {
    status: 503,
    title: 'The CA cannot issue certificates',
    meaning: 'The CA key or certificate cannot be used (missing, expired, or not yet valid).',
    oauthError: null,
    layer: 'ra',
    remedy: 'An operator checks the CA: `certmaster doctor`.',
  },
  // -- HTTP front door --------------------------------------------------------------------------
  invalid_request: {
    status: 400,
    title: 'The request is not well-formed',
    meaning: 'The body or query does not match the endpoint schema (see /openapi.json).',
    oauthError: 'invalid_request',
    layer: 'http',
    remedy: 'Send what /openapi.json describes for the endpoint.',
  },
  not_found: {
    status: 404,
    title: 'Not found',
    meaning: 'Nothing is served at that path, or the request or certificate asked for does not exist.',
    oauthError: null,
    layer: 'http',
    remedy: 'Check the path (see /openapi.json) or the id.',
  },
  body_too_large: {
    status: 413,
    title: 'The request body is too large',
    meaning: 'The body exceeds server.body_limit_bytes.',
    oauthError: null,
    layer: 'http',
    remedy: 'Send one PEM CSR (a few kilobytes).',
  },
  unsupported_media_type: {
    status: 415,
    title: 'Unsupported media type',
    meaning: 'The endpoint takes application/json (the token endpoint takes a form) and got something else.',
    oauthError: null,
    layer: 'http',
    remedy: 'Send Content-Type: application/json.',
  },
  internal_error: {
    status: 500,
    title: 'Internal error',
    meaning: 'The server failed to handle the request; its log has the error under the request id.',
    oauthError: null,
    layer: 'http',
    remedy: 'Report the request id to the operator.',
  },
  audit_unavailable: {
    status: 503,
    title: 'The audit log is unavailable',
    meaning:
      'The audit log could not be written, so nothing was done (the server never acts without a record).',
    oauthError: null,
    layer: 'audit',
    remedy: 'Try again shortly; an operator checks the store with `certmaster doctor`.',
  },
  // -- ACME (RFC 8555): problem documents carry the ACME error type and this reason ------------
  acme_malformed: {
    status: 400,
    title: 'The ACME request is malformed',
    meaning:
      'An ACME request (RFC 8555) was not a well-formed JWS or payload: unprotected headers, a refused algorithm or key, bad contacts, an unsupported identifier or revocation reason. The problem `type` names the exact ACME error.',
    oauthError: null,
    layer: 'acme',
    remedy:
      'Use a standard ACME client (certbot, lego) against /acme/directory; the `detail` says which member is wrong.',
  },
  acme_bad_nonce: {
    status: 400,
    title: 'The ACME nonce is not valid',
    meaning:
      'The JWS nonce was unknown, expired or already spent (RFC 8555 §6.5, `badNonce`). ACME clients retry with the nonce of the answer.',
    oauthError: null,
    layer: 'acme',
    remedy: 'Retry with the Replay-Nonce of the last answer; standard clients do this by themselves.',
  },
  acme_account_unknown: {
    status: 400,
    title: 'No such ACME account',
    meaning:
      'The JWS named an account (`kid`) or key this server has not registered (`accountDoesNotExist`).',
    oauthError: null,
    layer: 'acme',
    remedy: 'Register the account with newAccount, or use the account URL newAccount returned.',
  },
  acme_unauthorized: {
    status: 403,
    title: 'The ACME account may not do this',
    meaning:
      'The JWS was signed correctly but for the wrong URL, by a deactivated account, or for an object of another account (`unauthorized`).',
    oauthError: null,
    layer: 'acme',
    remedy: 'Sign for exactly the URL you POST to, with the account that owns the order or certificate.',
  },
  acme_eab_required: {
    status: 403,
    title: 'External Account Binding is required',
    meaning:
      '`acme.require_eab` is on and the new ACME account carried no valid External Account Binding (RFC 8555 §7.3.4).',
    oauthError: null,
    layer: 'acme',
    remedy: 'Register with the EAB key id and HMAC key an operator gives you.',
  },
  acme_rate_limited: {
    status: 429,
    title: 'Too many ACME orders',
    meaning:
      'The ACME account placed more orders in the last hour than `acme.orders_per_account_per_hour` allows (`rateLimited`).',
    oauthError: null,
    layer: 'acme',
    remedy: 'Wait for the time in Retry-After, then order again.',
  },
  acme_order_not_ready: {
    status: 403,
    title: 'The ACME order is not ready',
    meaning:
      'finalize was called before every authorization of the order was valid, or twice (`orderNotReady`).',
    oauthError: null,
    layer: 'acme',
    remedy: 'Complete every challenge of the order, then finalize once.',
  },
  acme_csr_names_mismatch: {
    status: 400,
    title: 'The CSR does not match the order',
    meaning:
      "The CSR sent to finalize names other names than the order's identifiers (RFC 8555 §7.4, `badCSR`).",
    oauthError: null,
    layer: 'acme',
    remedy: "Make the CSR for exactly the order's identifiers.",
  },
  acme_validation_failed: {
    status: 403,
    title: 'The ACME challenge failed',
    meaning:
      'The http-01 or dns-01 validator did not find the key authorization (`connection`, `dns`, `incorrectResponse` or `unauthorized`); the challenge records what it saw.',
    oauthError: null,
    layer: 'acme',
    remedy:
      'Serve the key authorization at /.well-known/acme-challenge/TOKEN on acme.http01_port, or publish the TXT record, then order again.',
  },
  acme_already_revoked: {
    status: 400,
    title: 'The certificate is already revoked',
    meaning: 'revokeCert named a certificate that is already revoked (`alreadyRevoked`).',
    oauthError: null,
    layer: 'acme',
    remedy: 'Nothing to do; the certificate stays revoked.',
  },
} as const satisfies Record<string, RefusalEntry>;

export type Reason = keyof typeof REFUSALS;

export const REASONS = Object.keys(REFUSALS) as Reason[];

export function isReason(value: string): value is Reason {
  return Object.hasOwn(REFUSALS, value);
}

/** The status a reason is answered with; 500 for a string that is no reason (an older record). */
export function statusOfReason(reason: string): number {
  return isReason(reason) ? REFUSALS[reason].status : 500;
}
