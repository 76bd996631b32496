/** What to do about the RA's and the CA's refusals: names, CSRs, keys, pending requests, triggers, enrollment tokens. */
import type { KeyRule } from '../../contract/refusal-cause.js';
import type { Reason } from '../../contract/refusals.js';
import type { Advisor } from './advisor.js';
import { printable, serverArg } from './text.js';

type EnrollmentReason = Extract<
  Reason,
  | 'request_rejected'
  | 'name_not_allowed'
  | 'csr_invalid'
  | 'name_invalid'
  | 'key_too_weak'
  | 'request_conflict'
  | 'request_vetoed'
  | 'enrollment_token_used_up'
  | 'not_pending'
  | 'ca_unavailable'
>;

/** What to do for each key rule a refused key broke (the typed cause's `rule`). */
const KEY_FIXES: Record<KeyRule, (key: string, minRsaBits: number) => string> = {
  rsa_too_small: (key, min) =>
    `The key is ${key}; generate an RSA key of at least ${min} bits, or an EC P-256 key (the default of \`certmaster request\`), and send a new CSR.`,
  rsa_too_large: (key) =>
    `The key is ${key}; RSA keys over 8192 bits are refused. Generate an RSA key of 2048-4096 bits or an EC P-256 key and send a new CSR.`,
  rsa_exponent: () =>
    'The RSA key does not use the public exponent 65537; generate a new key with a standard tool (openssl genrsa uses 65537) and send a new CSR.',
  ec_explicit_curve: () =>
    'The EC key spells out its curve parameters; generate it with a named curve (OpenSSL does by default) and send a new CSR.',
  ec_curve: (key) => `The key is ${key}; use EC P-256 or P-384 (or Ed25519) and send a new CSR.`,
  ed448: () => 'Ed448 is not certified here; use Ed25519, EC P-256 or P-384 and send a new CSR.',
};

export const ENROLLMENT_ADVISORS: Record<EnrollmentReason, Advisor> = {
  request_rejected: () => ({
    meaning: 'An operator rejected this request (EST answers the rejection to every retry of the same CSR).',
    fix: 'Ask the operator why, then enroll again with a new key and CSR.',
    command: null,
  }),
  name_not_allowed: (a) => {
    const { detail, shownName, cn, any } = a;

    return {
      meaning: `${shownName} asked for names its account or enrollment token does not cover${detail ? ` (${printable(detail, 300)})` : ''}.`,
      fix: 'Ask only for the names the credential allows, or have an operator issue an enrollment token covering this name (or sign the request by hand).',
      command: `certmaster token create --enroll ${cn} --uses 1 ${any}`,
    };
  },
  csr_invalid: (a) => {
    const { ctx, detail, cn } = a;

    return {
      meaning: `The certificate signing request could not be used${detail ? `: ${printable(detail, 300)}` : ''}.`,
      fix: 'Make a new CSR; `certmaster request` makes a valid one, or: openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -subj /CN=NAME -out csr.pem',
      command: `certmaster request --server ${serverArg(ctx)} --cn ${cn} --out DIR`,
    };
  },
  name_invalid: (a) => {
    const { facts, detail, local } = a;
    // Only the typed cause says a name was refused for being a wildcard: never the words.
    const wildcard = facts?.code === 'names_invalid' && facts.wildcardsDisallowed.length > 0;
    return {
      meaning: `A requested name is not acceptable${detail ? `: ${printable(detail, 300)}` : ''}.`,
      fix: wildcard
        ? 'Ask for host names without "*", or allow wildcard names on this CA.'
        : 'Ask for host names (RFC 1123) or IP addresses only, and no more than ra.max_names of them.',
      command: wildcard ? `certmaster config set ra.allow_wildcards true ${local}` : null,
    };
  },
  key_too_weak: (a) => {
    const { ctx, facts, detail, cn } = a;
    const key = facts?.code === 'key_rejected' ? facts : null;
    return {
      meaning: `The CSR's key is too weak for this CA${detail ? ` (${printable(detail, 200)})` : ''}.`,
      fix: key
        ? KEY_FIXES[key.rule](printable(key.key, 60), key.minRsaBits)
        : 'Generate a stronger key (EC P-256 is the default of `certmaster request`; RSA needs at least ra.min_rsa_bits bits) and send a new CSR.',
      command: `certmaster request --server ${serverArg(ctx)} --cn ${cn} --out DIR`,
    };
  },
  request_conflict: (a) => {
    const { facts, detail, target, any } = a;
    if (facts?.code === 'certificate_held') {
      const keys = ` Certificate ${printable(facts.serial, 64)} (valid until ${printable(facts.notAfter, 40)}) is for key SHA-256 ${printable(facts.heldKeySha256, 64)}; the request came with key SHA-256 ${printable(facts.requestedKeySha256, 64)}.`;
      // Anyone may submit a CSR: a conflict alone is no reason to revoke a healthy host.
      return {
        meaning: `${target ?? 'The name'} already holds a valid certificate, and the request came with a different CSR (a new key).${keys}`,
        fix: 'Nothing, if the request did not come from the host: its certificate stays valid. If the host really lost its key, confirm that with its owner (compare the key fingerprints), then clean it so it can enroll again.',
        command: `certmaster ca list --all ${any}`,
      };
    }
    return {
      meaning: `Another CSR for ${target ?? 'this name'} is already waiting for approval${detail ? `: ${printable(detail, 300)}` : ''}.`,
      fix: 'Sign or reject the pending request, then submit again.',
      command: `certmaster ca list --pending ${any}`,
    };
  },
  request_vetoed: (a) => {
    const { detail } = a;

    return {
      meaning: `A pre trigger of this site refused the action${detail ? `: ${printable(detail, 300)}` : ''}.`,
      fix: "Read the trigger's last output line above; the scripts are in the data directory under triggers/EVENT/pre/. Fix what it checks, or the trigger.",
      command: null,
    };
  },
  enrollment_token_used_up: (a) => {
    const { facts, cn, any } = a;

    return {
      meaning:
        facts?.code === 'enrollment_token_used_up'
          ? `The enrollment token ${printable(facts.token, 80)} has no uses left.`
          : 'The enrollment token has no uses left, has expired, or was revoked.',
      fix: 'Give the host a new enrollment token.',
      command: `certmaster token create --enroll ${cn} --uses 1 --ttl 1h ${any}`,
    };
  },
  not_pending: (a) => ({
    meaning: `The request was already decided${a.detail ? ` (${printable(a.detail, 200)})` : ''}.`,
    fix: 'Nothing to do; list what is still pending.',
    command: `certmaster ca list --pending ${a.any}`,
  }),
  ca_unavailable: (a) => ({
    meaning: `The CA could not sign${a.detail ? ` (${printable(a.detail, 200)})` : ''}.`,
    fix: 'Check the CA certificate and key.',
    command: `certmaster doctor ${a.local}`,
  }),
};
