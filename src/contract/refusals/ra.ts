/** The registration authority's refusals (src/ra): CSRs, names, keys, pending requests, renewal, the CA. Assembled, in this order, by ../refusals.ts. */
import type { RefusalEntry } from '../refusal-entry.js';

export const RA_REFUSALS = {
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
} as const satisfies Record<string, RefusalEntry>;
