/**
 * What to do about a refusal: one advisor per reason code, so the compiler refuses a reason
 * without one (`Record<Reason, Advisor>`).
 */
import type { AuditRecord } from '../../audit/types.js';
import { causeOf } from '../../contract/refusal-cause.js';
import { isReason, type Reason, statusOfReason } from '../../contract/refusals.js';
import { ACME_ADVISORS } from './advice-acme.js';
import { credentialsInvalidAdvice, tokenInvalidAdvice, tokenRevokedAdvice } from './advice-credentials.js';
import { RENEWAL_ADVISORS } from './advice-renewal.js';
import type { Advisor } from './advisor.js';
import {
  type Advice,
  anyTarget,
  type CommandContext,
  firstMatch,
  isRoute,
  localTarget,
  printable,
  serverArg,
  shellWord,
  stringDetail,
} from './text.js';

export type { AdviceInput, Advisor } from './advisor.js';

const ADVISORS: Record<Reason, Advisor> = {
  credentials_missing: (a) => {
    const { ctx, name } = a;

    return {
      meaning: 'The request carried no credentials, and what it asked for needs them.',
      fix: 'Sign in first, or make the client send its token (`Authorization: Bearer TOKEN`) with the very first request; a script using curl needs -u USER or -H "Authorization: Bearer ...".',
      command: `certmaster login --server ${serverArg(ctx)} --user ${name}`,
    };
  },
  request_rejected: () => ({
    meaning: 'An operator rejected this request (EST answers the rejection to every retry of the same CSR).',
    fix: 'Ask the operator why, then enroll again with a new key and CSR.',
    command: null,
  }),
  insecure_transport: () => ({
    meaning:
      'The client sent a password or client secret over plain HTTP from another machine; certmaster refused it before checking it, because it crossed the network in the clear.',
    fix: 'Point the client at the https:// URL of the server, and change the secret that was sent, since it may have been read on the way.',
    command: null,
  }),
  scheme_unsupported: (a) => {
    const { facts, local } = a;

    const disabled = facts?.code === 'scheme_disabled' ? facts : null;
    if (disabled?.plainHttp) {
      return {
        meaning:
          'The client sent Basic credentials over plain HTTP from another machine; certmaster refuses them there, because the password would cross the network in the clear.',
        fix: 'Serve HTTPS (or have the client use a token), rather than sending passwords over plain HTTP.',
        command: `certmaster config set server.plain_http false ${local}`,
      };
    }
    if (disabled?.scheme === 'unregistered') {
      return {
        meaning:
          'The Authorization header did not start with a known scheme name: typically a token sent without the word "Bearer" in front of it.',
        fix: 'Send `Authorization: Bearer TOKEN`.',
        command: null,
      };
    }
    const scheme = disabled?.scheme ?? null;
    const setting =
      scheme === null ? null : ({ Basic: 'basic', Digest: 'digest', Bearer: 'bearer' }[scheme] ?? null);
    return {
      meaning: `The client used an authentication scheme this server does not accept${scheme ? ` (${scheme})` : ''}.`,
      fix:
        setting === null
          ? 'Configure the client to use one of the schemes in the WWW-Authenticate headers of the answer (Bearer, Digest or Basic).'
          : `Configure the client to use another scheme from the WWW-Authenticate headers, or enable ${scheme} on the server.`,
      command: setting === null ? null : `certmaster config set auth.${setting} true ${local}`,
    };
  },
  credentials_malformed: (a) => {
    const { facts, cause, detail, local } = a;

    if (facts?.code === 'digest_algorithm_not_offered') {
      const algorithm = facts.algorithm;
      return {
        meaning: `The client answered the Digest challenge with algorithm ${printable(algorithm, 20)}, which this server does not offer.`,
        fix: 'Configure the client for SHA-256, or (for legacy clients only) offer that algorithm too.',
        command: `certmaster config set auth.digest_algorithms 'SHA-256,${printable(algorithm, 20)}' ${local}`,
      };
    }
    if (facts?.code === 'digest_realm_wrong') {
      return {
        meaning:
          'The client answered a Digest challenge for another realm: it cached an old challenge, or auth.realm changed.',
        fix: 'Have the client start afresh from a new challenge (restart it or clear its cached credentials).',
        command: null,
      };
    }
    return {
      meaning: `The client's Authorization header does not parse (${printable(cause || detail, 200)}): the client is broken or misconfigured.`,
      fix: 'Fix the client, and compare with a request that works, e.g. `curl --basic -u USER https://SERVER/v1/whoami`.',
      command: null,
    };
  },
  credentials_invalid: (a) => {
    const { facts, ctx, cause, name, shownName } = a;

    return credentialsInvalidAdvice(facts, cause, shownName, name, ctx);
  },
  account_disabled: (a) => {
    const { facts, cause, name, shownName, local } = a;

    if (facts?.code === 'account_disabled' && facts.kind === 'client') {
      return {
        meaning: `The secret was right, but the service account ${printable(facts.account, 80)} is disabled.`,
        fix: 'If it should work again, create it anew (its old secret stays invalid).',
        command: `certmaster client add ${shellWord(facts.account)} --role ROLE ${local}`,
      };
    }
    // A token acting for a disabled owner says so in words (its typed cause is still to come).
    const owner =
      facts?.code === 'account_disabled' ? facts.account : firstMatch(/owner (\S+) is disabled/, cause);
    const account = owner === null ? name : shellWord(owner);
    return {
      meaning: `The credentials were right, but the account ${owner === null ? shownName : printable(owner, 80)} is disabled${owner !== null && /token/i.test(cause) ? ' (the token acts for it)' : ''}.`,
      fix: 'If the account should work again, enable it.',
      command: `certmaster user enable ${account} ${local}`,
    };
  },
  nonce_stale: (a) => {
    const { facts, local } = a;

    return {
      meaning:
        facts?.code === 'nonce_replayed'
          ? 'The client reused a digest nonce count: a replayed or duplicated request.'
          : 'The digest nonce had expired; the client was told stale=true and should retry by itself without asking for the password again.',
      fix: 'Nothing, if the next request from this client succeeded. If it keeps happening, the client ignores stale=true: upgrade it, or give nonces a longer life.',
      command: `certmaster config set auth.nonce_lifetime_seconds 900 ${local}`,
    };
  },
  token_expired: (a) => {
    const { record, facts, ctx, cause, detail, name, shownName, any } = a;

    if ((facts?.code === 'token_expired' && facts.kind === 'access') || record.method === 'access_token') {
      return {
        meaning: `The access token of ${shownName} had expired (${printable(cause || detail, 160)}).`,
        fix: 'Sign in again; `certmaster` itself refreshes an expired session once. If tokens expire right after they are issued, the clocks of this server and the client disagree: check them with NTP.',
        command: `certmaster login --server ${serverArg(ctx)} --user ${name}`,
      };
    }
    return {
      meaning: `The token had expired (${printable(cause || detail, 160)}).`,
      fix: 'Create a new token for the client (enrollment tokens with --enroll PATTERN, API tokens with --scope).',
      command: `certmaster token create --scope SCOPE --ttl 30d ${any}`,
    };
  },
  token_not_yet_valid: (a) => {
    const { ctx, cause, detail, local } = a;

    return {
      meaning: `The token is not valid yet (${printable(cause || detail, 160)}): the clock of this server and that of the server that issued the token disagree (clock skew).`,
      fix: 'Synchronise the clocks of every certmaster server and of the clients with NTP, then sign in again. `certmaster doctor --peer URL` measures the skew against another server.',
      command: `certmaster doctor ${local} --peer ${serverArg(ctx)}`,
    };
  },
  token_revoked: (a) => {
    const { facts, ctx, cause, name, shownName } = a;

    return tokenRevokedAdvice(facts, cause, shownName, name, ctx);
  },
  token_invalid: (a) => {
    const { facts, ctx, cause } = a;

    return tokenInvalidAdvice(facts, cause, ctx);
  },
  insufficient_scope: (a) => {
    const { record, facts, shownName, ctx } = a;
    const known = facts?.code === 'scope_missing' ? facts : null;
    const scope = known?.scope ?? stringDetail(record, 'scope');
    const has = known ? known.has.join(' ') || 'none' : null;
    // The new token must act for the same account: an admin-owned token would be a different, wider grant.
    const owner = known?.owner ?? record.principal;
    const ownerWord = owner === null ? 'NAME' : shellWord(owner);
    const scopeWord = scope === null ? 'SCOPE' : shellWord(scope);
    return {
      meaning: `${shownName} is allowed this, but the token used does not carry the scope ${scope === null ? 'it needs' : `"${printable(scope, 60)}"`}${has ? ` (it has: ${printable(has, 200)})` : ''}.`,
      fix: `Use a token of ${owner === null ? 'the same account' : printable(owner, 80)} with that scope: create one for that account, or sign in again as it (a session carries every scope of the role).`,
      command:
        ctx.dataDir !== null
          ? `certmaster token create --scope ${scopeWord} --owner ${ownerWord} --data ${shellWord(ctx.dataDir)}`
          : `certmaster login --server ${serverArg(ctx)} --user ${ownerWord} && certmaster token create --scope ${scopeWord} --server ${serverArg(ctx)}`,
    };
  },
  forbidden: (a) => {
    const { facts, name, shownName, local } = a;

    const scope = facts?.code === 'role_lacks_scope' ? facts.scope : null;
    return {
      meaning: `${shownName} is known, but its role does not allow this${scope ? ` (it needs "${printable(scope, 60)}")` : ''}.`,
      fix: 'Do it with an account whose role allows it (admin or operator for approving, revoking and cleaning), or give the person such an account.',
      command: `certmaster user add ${name === 'NAME' ? 'NAME' : `${name}-operator`} --role operator ${local}`,
    };
  },
  too_many_attempts: (a) => {
    const { record, facts, shownName } = a;

    const seconds = facts?.code === 'throttled' ? String(facts.seconds) : null;
    if (facts?.code === 'hasher_busy') {
      return {
        meaning: 'The server was too busy checking passwords and asked the client to retry in a second.',
        fix: 'Nothing, unless it repeats: then move scripts from passwords to tokens, which cost no password hashing.',
        command: null,
      };
    }
    return {
      meaning: `Too many failed attempts came from ${printable(record.clientAddress ?? 'this address', 60)}${record.claimedName ? ` for ${shownName}` : ''}; it was told to wait${seconds ? ` ${seconds} s` : ''} (Retry-After). There is no permanent lockout.`,
      fix: 'Wait for the delay, and find what keeps sending wrong credentials (the failures just before this record name the cause): often a script or a service with an old password or token.',
      command: null,
    };
  },
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
    const { cause, detail, local } = a;

    const wildcard = /wildcard/i.test(detail) || /wildcard/i.test(cause);
    return {
      meaning: `A requested name is not acceptable${detail ? `: ${printable(detail, 300)}` : ''}.`,
      fix: wildcard
        ? 'Ask for host names without "*", or allow wildcard names on this CA.'
        : 'Ask for host names (RFC 1123) or IP addresses only, and no more than ra.max_names of them.',
      command: wildcard ? `certmaster config set ra.allow_wildcards true ${local}` : null,
    };
  },
  key_too_weak: (a) => {
    const { ctx, detail, cn } = a;

    return {
      meaning: `The CSR's key is too weak for this CA${detail ? ` (${printable(detail, 200)})` : ''}.`,
      fix: 'Generate a stronger key (EC P-256 is the default of `certmaster request`; RSA needs at least ra.min_rsa_bits bits) and send a new CSR.',
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
  audit_unavailable: (a) => {
    const { local } = a;

    return {
      meaning:
        'The audit log could not be written, so the server refused to act (it never acts without a record).',
      fix: 'Find out why the store refuses writes (disk full, database down, permissions) and fix it.',
      command: `certmaster doctor ${local}`,
    };
  },
  client_certificate_invalid: (a) => {
    const { cause, detail, name, any } = a;
    const revoked = /revoked at/.test(cause);
    const expired = /expired at/.test(cause);
    return {
      meaning: `The client certificate presented over mutual TLS was refused: ${printable(cause || detail, 300)}.`,
      fix: revoked
        ? 'A revoked certificate never authenticates again: the host must enroll anew with an account or an enrollment token.'
        : expired
          ? 'The host let its certificate expire: unless ra.renew_after_expiry still allows `certmaster renew`, it must enroll anew with an account or an enrollment token, and run `certmaster agent` so it renews before expiry from then on.'
          : /not yet valid/.test(cause)
            ? "The host's clock or the server's is wrong: synchronise both with NTP."
            : 'The host presented a certificate this CA did not issue, or one without clientAuth: configure it with the certificate this CA issued to it.',
      command:
        revoked || expired ? `certmaster token create --enroll ${name} --uses 1 --ttl 1h ${any}` : null,
    };
  },
  invalid_client: (a) => ({
    meaning: `The OAuth client ${a.shownName} could not be authenticated${a.cause ? ` (${printable(a.cause, 200)})` : ''}.`,
    fix: 'Check the client id and secret the service uses; if the secret is lost, remove the client and add it again.',
    command: `certmaster client list ${a.local}`,
  }),
  invalid_grant: (a) => ({
    meaning: `The sign-in or refresh token was refused${a.cause ? ` (${printable(a.cause, 200)})` : ''}.`,
    fix: 'Sign in again.',
    command: `certmaster login --server ${serverArg(a.ctx)}${a.name === 'NAME' ? '' : ` --user ${a.name}`}`,
  }),
  unauthorized_client: (a) => ({
    meaning: `The OAuth client may not use this grant${a.cause ? ` (${printable(a.cause, 200)})` : ''}: the password grant is only for the certmaster CLI, services use client_credentials.`,
    fix: 'Use the grant the client is meant for.',
    command: null,
  }),
  unsupported_grant_type: (a) => ({
    meaning: `The client asked for a grant this server does not support${a.cause ? ` (${printable(a.cause, 100)})` : ''}.`,
    fix: 'Use grant_type=password, client_credentials or refresh_token.',
    command: null,
  }),
  invalid_scope: (a) => ({
    meaning: `The client asked for a scope beyond what the account or client may have${a.detail ? ` (${printable(a.detail, 200)})` : ''}.`,
    fix: 'Ask only for scopes the role allows; `certmaster user list` shows the roles.',
    command: `certmaster user list ${a.local}`,
  }),
  invalid_argument: (a) => ({
    meaning: `An argument was not valid${a.detail ? `: ${printable(a.detail, 300)}` : ''}.`,
    fix: a.record.told?.hint ? printable(a.record.told.hint, 300) : 'Fix the argument named above.',
    command: null,
  }),
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
  invalid_request: (a) => ({
    meaning: `The request did not match what the endpoint takes${a.detail ? `: ${printable(a.detail, 300)}` : ''}.`,
    fix: 'Fix the client: /openapi.json on the server describes every endpoint.',
    command: null,
  }),
  not_found: (a) => ({
    meaning: `Nothing is served at ${a.record.target === null ? 'that path' : printable(a.record.target, 200)}, or the request or certificate asked for does not exist.`,
    fix: 'Check the URL the client uses (a typo, or an older API version); /openapi.json lists the endpoints.',
    command: null,
  }),
  body_too_large: (a) => ({
    meaning: `The body was larger than the server accepts${a.detail ? ` (${printable(a.detail, 100)})` : ''}.`,
    fix: 'Send one PEM CSR; if a legitimate body really is larger, raise server.body_limit_bytes.',
    command: null,
  }),
  unsupported_media_type: (a) => ({
    meaning: `The body was not of the type the endpoint takes${a.cause ? ` (${printable(a.cause, 100)})` : ''}.`,
    fix: 'Send Content-Type: application/json (the OAuth endpoints take application/x-www-form-urlencoded).',
    command: null,
  }),
  internal_error: (a) => ({
    meaning: 'The server failed while handling the request: a bug, or a resource it needs failed.',
    fix: `Find the error under request id ${printable(a.record.requestId, 100)} in the server log, and report it.`,
    command: `certmaster doctor ${a.local}`,
  }),
  ...ACME_ADVISORS,
  ...RENEWAL_ADVISORS,
};

/** What to do about a refusal, from its reason code and, where the code is ambiguous, its internal cause. */
export function adviceFor(record: AuditRecord, ctx: CommandContext): Advice | null {
  const reason = record.reason;
  if (reason === null) return null;
  const cause = record.cause ?? '';
  const detail = record.told?.detail ?? '';
  const who = record.claimedName ?? record.principal;
  const target = record.target !== null && !isRoute(record.target) ? record.target : null;
  if (!isReason(reason)) {
    // A record written by another version, with a code this one does not know.
    return {
      meaning: `Refused with reason ${printable(reason, 60)}${cause ? `: ${printable(cause, 300)}` : ''}.`,
      fix: record.told?.hint ? printable(record.told.hint, 300) : 'See what the caller was told.',
      command: null,
    };
  }
  return ADVISORS[reason]({
    record,
    facts: causeOf(record.details),
    ctx,
    cause,
    detail,
    name: who === null ? 'NAME' : shellWord(who),
    shownName: who === null ? 'the caller' : printable(who, 80),
    target,
    cn: target === null ? 'NAME' : shellWord(target),
    local: localTarget(ctx),
    any: anyTarget(ctx),
  });
}

export function toldStatus(record: AuditRecord): number | null {
  if (record.told === null) return null;
  if (record.told.status > 0) return record.told.status;
  // The RA records what it told before HTTP chose a status (0); over HTTP the reason decides it.
  if (record.method === 'local' || record.reason === null) return null;
  const status = statusOfReason(record.reason);
  return status === 500 && record.reason !== 'internal_error' ? null : status;
}
