/** The ACME refusals (RFC 8555, src/acme). Assembled, in this order, by ../refusals.ts. */
import type { RefusalEntry } from '../refusal-entry.js';

export const ACME_REFUSALS = {
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
