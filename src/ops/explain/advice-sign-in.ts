/** What to do about the front door's refusals: missing, malformed or wrong credentials, tokens, scopes, the throttle. */
import type { Reason } from '../../contract/refusals.js';
import { orList } from '../../util/words.js';
import { credentialsInvalidAdvice, tokenInvalidAdvice, tokenRevokedAdvice } from './advice-credentials.js';
import type { Advisor } from './advisor.js';
import { printable, serverArg, shellWord, stringDetail } from './text.js';

type SignInReason = Extract<
  Reason,
  | 'credentials_missing'
  | 'insecure_transport'
  | 'scheme_unsupported'
  | 'credentials_malformed'
  | 'credentials_invalid'
  | 'account_disabled'
  | 'nonce_stale'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'token_revoked'
  | 'token_invalid'
  | 'insufficient_scope'
  | 'forbidden'
  | 'too_many_attempts'
  | 'client_certificate_invalid'
>;

export const SIGN_IN_ADVISORS: Record<SignInReason, Advisor> = {
  credentials_missing: (a) => {
    const { ctx, name } = a;

    return {
      meaning: 'The request carried no credentials, and what it asked for needs them.',
      fix: 'Sign in first, or make the client send its token (`Authorization: Bearer TOKEN`) with the very first request; a script using curl needs -u USER or -H "Authorization: Bearer ...".',
      command: `certmaster login --server ${serverArg(ctx)} --user ${name}`,
    };
  },
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
    // The schemes that were on when the request was refused, as the record says: a CLI user sees no
    // WWW-Authenticate header, and the server's settings may have changed since.
    const enabled = (disabled?.enabled ?? []).map((s) => printable(s, 20));
    const accepted =
      disabled === null
        ? 'one of the schemes this server accepts (its 401 answers list them)'
        : enabled.length === 0
          ? null
          : `${enabled.length === 1 ? '' : 'one of '}the scheme${enabled.length === 1 ? '' : 's'} this server accepted then: ${orList(enabled)}`;
    return {
      meaning: `The client used an authentication scheme this server does not accept${scheme ? ` (${scheme})` : ''}.`,
      fix:
        accepted === null
          ? `This server accepted no authentication scheme at the time${setting === null ? '' : `; enable ${scheme} on the server`}.`
          : setting === null
            ? `Configure the client to use ${accepted}.`
            : `Configure the client to use ${accepted}, or enable ${scheme} on the server.`,
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
    const { facts, name, shownName, local } = a;

    if (facts?.code === 'account_disabled' && facts.kind === 'client') {
      return {
        meaning: `The secret was right, but the service account ${printable(facts.account, 80)} is disabled.`,
        fix: 'If it should work again, create it anew (its old secret stays invalid).',
        command: `certmaster client add ${shellWord(facts.account)} --role ROLE ${local}`,
      };
    }
    const viaToken = facts?.code === 'token_owner_disabled';
    const owner =
      facts?.code === 'account_disabled'
        ? facts.account
        : facts?.code === 'token_owner_disabled'
          ? facts.owner
          : null;
    const account = owner === null ? name : shellWord(owner);
    return {
      meaning: `The credentials were right, but the account ${owner === null ? shownName : printable(owner, 80)} is disabled${viaToken ? ` (the token ${printable(facts.token, 80)} acts for it)` : ''}.`,
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
    if (facts?.code === 'refresh_token_expired') {
      return {
        meaning: `The sign-in of ${shownName} has ended: its refresh token (family ${printable(facts.family, 60)}) expired at ${facts.at}, a sign-in lasts auth.refresh_token_ttl_days from its start.`,
        fix: 'Sign in again. If sign-ins end too soon for a long-running client, give it a service account (client_credentials) instead of a person’s login.',
        command: `certmaster login --server ${serverArg(ctx)}${name === 'NAME' ? '' : ` --user ${name}`}`,
      };
    }

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
  client_certificate_invalid: (a) => {
    const { facts, cause, detail, name, any } = a;
    const problem = facts?.code === 'client_certificate_rejected' ? facts.problem : null;
    const revoked = problem === 'revoked';
    const expired = problem === 'expired';
    return {
      meaning: `The client certificate presented over mutual TLS was refused: ${printable(cause || detail, 300)}.`,
      fix: revoked
        ? 'A revoked certificate never authenticates again: the host must enroll anew with an account or an enrollment token.'
        : expired
          ? 'The host let its certificate expire: unless ra.renew_after_expiry still allows `certmaster renew`, it must enroll anew with an account or an enrollment token, and run `certmaster agent` so it renews before expiry from then on.'
          : problem === 'not_yet_valid'
            ? "The host's clock or the server's is wrong: synchronise both with NTP."
            : 'The host presented a certificate this CA did not issue, or one without clientAuth: configure it with the certificate this CA issued to it.',
      command:
        revoked || expired ? `certmaster token create --enroll ${name} --uses 1 --ttl 1h ${any}` : null,
    };
  },
};
