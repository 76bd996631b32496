/** What to do about the ACME protocol's refusals (RFC 8555 §6.7): the ACME client, not certmaster, acts on most. */
import type { Reason } from '../../contract/refusals.js';
import type { Advisor } from './advisor.js';

type AcmeReason = Extract<Reason, `acme_${string}`>;

export const ACME_ADVISORS: Record<AcmeReason, Advisor> = {
  acme_malformed: () => ({
    meaning:
      'An ACME request (RFC 8555) was not a well-formed JWS or payload: unprotected headers, a refused algorithm or key, bad contacts, an unsupported identifier or revocation reason. The problem `type` names the exact ACME error.',
    fix: 'Upgrade or reconfigure the ACME client; the detail names the member it got wrong (RFC 8555 §6.2, §7).',
    command: null,
  }),
  acme_bad_nonce: () => ({
    meaning:
      'The JWS nonce was unknown, expired or already spent (RFC 8555 §6.5, `badNonce`). ACME clients retry with the nonce of the answer.',
    fix: 'Nothing, usually: clients retry with the fresh nonce. Many in a row mean replicas that do not share a store, or a clock far off.',
    command: null,
  }),
  acme_account_unknown: () => ({
    meaning:
      'The JWS named an account (`kid`) or key this server has not registered (`accountDoesNotExist`).',
    fix: 'Register again: the client lost its account, or talks to a server with another store.',
    command: null,
  }),
  acme_unauthorized: () => ({
    meaning:
      'The JWS was signed correctly but for the wrong URL, by a deactivated account, or for an object of another account (`unauthorized`).',
    fix: 'Check which account the client uses; a deactivated account needs a new key and a new registration.',
    command: null,
  }),
  acme_eab_required: () => ({
    meaning:
      '`acme.require_eab` is on and the new ACME account carried no valid External Account Binding (RFC 8555 §7.3.4).',
    fix: 'Give the client an EAB key id and HMAC key for an enrollment token whose patterns cover its names.',
    command: null,
  }),
  acme_rate_limited: () => ({
    meaning:
      'The ACME account placed more orders in the last hour than `acme.orders_per_account_per_hour` allows (`rateLimited`).',
    fix: 'Wait an hour, or raise acme.orders_per_account_per_hour if the client legitimately orders this much.',
    command: null,
  }),
  acme_order_not_ready: () => ({
    meaning:
      'finalize was called before every authorization of the order was valid, or twice (`orderNotReady`).',
    fix: 'Let the client finish its challenges; it finalizes once the order is ready.',
    command: null,
  }),
  acme_csr_names_mismatch: () => ({
    meaning:
      "The CSR sent to finalize names other names than the order's identifiers (RFC 8555 §7.4, `badCSR`).",
    fix: 'Make the client build its CSR from the same names it ordered.',
    command: null,
  }),
  acme_validation_failed: () => ({
    meaning:
      'The http-01 or dns-01 validator did not find the key authorization (`connection`, `dns`, `incorrectResponse` or `unauthorized`); the challenge records what it saw.',
    fix: 'Check that the host answers on acme.http01_port (or the TXT record resolves through acme.resolver); `certmaster explain` shows what the validator saw.',
    command: null,
  }),
  acme_already_revoked: () => ({
    meaning: 'revokeCert named a certificate that is already revoked (`alreadyRevoked`).',
    fix: 'Nothing: the certificate is already revoked.',
    command: null,
  }),
};
