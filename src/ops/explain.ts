/**
 * `certmaster explain`: the whole story of one request, or of one host, from the audit log and the
 * store, told in sentences an operator can act on. A caller only ever hears "the user name or
 * password is not right"; the audit record keeps the precise cause, and this is where an operator
 * reads it together with the fix.
 */
import { z } from 'zod';
import type { AuditKind, AuditRecord } from '../audit/types.js';
import { statusOf } from '../http/problem.js';
import type { AuditStore } from '../store/audit-store.js';
import type { Store } from '../store/store.js';
import type { CertificateRequest, Clock, IssuedCertificate } from '../types.js';

/** How the story's commands say where the CA is: `--data DIR` (local) or `--server URL`. */
export interface CommandContext {
  /** The data directory, when known: account commands only work on it. */
  dataDir: string | null;
  /** The server URL, when the operator works remotely. */
  server: string | null;
}

/** What an operator should understand and do about one record. */
export interface Advice {
  /** What happened, in operator terms (may name what the caller was not told). */
  meaning: string;
  /** What to do next. */
  fix: string;
  /** The command that does it, when there is one. */
  command: string | null;
}

export interface RequestStory {
  requestId: string;
  /** The record the outcome rests on: the last refusal, else the last record. */
  decisive: AuditRecord;
  records: AuditRecord[];
  /** The story, sentence by sentence. */
  sentences: string[];
  advice: Advice | null;
}

// ---------------------------------------------------------------------------------------------
// The wire form of an audit record, shared by GET /v1/audit and `explain --server`.

/** The JSON form of an audit record (snake_case, ISO 8601 times), as GET /v1/audit answers it. */
export function auditRecordJson(record: AuditRecord) {
  return {
    seq: record.seq,
    at: record.at.toISOString(),
    request_id: record.requestId,
    kind: record.kind,
    phase: record.phase,
    outcome: record.outcome,
    reason: record.reason,
    principal: record.principal,
    claimed_name: record.claimedName,
    method: record.method,
    credential_id: record.credentialId,
    client_address: record.clientAddress,
    cause: record.cause,
    told: record.told
      ? { status: record.told.status, detail: record.told.detail, hint: record.told.hint }
      : null,
    target: record.target,
    details: record.details,
    prev_hash: record.prevHash,
    hash: record.hash,
  };
}

export type AuditRecordJson = ReturnType<typeof auditRecordJson>;

const text = (max: number) => z.string().max(max);
const optionalText = (max: number) => text(max).nullable();

const AuditRecordWire = z.object({
  seq: z.number().int().nonnegative(),
  at: z.iso.datetime({ offset: true }),
  request_id: text(256),
  // A newer server may record kinds this client does not know: they are shown, never acted on.
  kind: text(64),
  phase: z.enum(['request', 'response', 'decision']),
  outcome: z.enum(['success', 'failure']),
  reason: optionalText(64),
  principal: optionalText(512),
  claimed_name: optionalText(512),
  method: optionalText(64),
  credential_id: optionalText(256),
  client_address: optionalText(128),
  cause: optionalText(4096),
  told: z.object({ status: z.number().int(), detail: text(4096), hint: text(4096) }).nullable(),
  target: optionalText(1024),
  details: z.record(z.string(), z.unknown()),
  prev_hash: text(256),
  hash: text(256),
});

/** Most records one request can have that `explain --server` reads: a request leaves a handful. */
const MAX_WIRE_RECORDS = 1000;

/** Reads GET /v1/audit's `{ records: [...] }`; throws an Error saying what is wrong with it. */
export function auditRecordsFromJson(body: unknown): AuditRecord[] {
  const parsed = z.object({ records: z.array(z.unknown()).max(MAX_WIRE_RECORDS) }).safeParse(body);
  if (!parsed.success) throw new Error('the server answered GET /v1/audit without a list of records');
  return parsed.data.records.map((item, index) => {
    const one = AuditRecordWire.safeParse(item);
    if (!one.success) {
      const issue = one.error.issues[0];
      throw new Error(
        `audit record ${index} from the server does not parse: ${issue?.path.join('.') ?? ''} ${issue?.message ?? ''}`.trim(),
      );
    }
    const r = one.data;
    return {
      seq: r.seq,
      at: new Date(r.at),
      requestId: r.request_id,
      kind: r.kind as AuditKind,
      phase: r.phase,
      outcome: r.outcome,
      reason: r.reason,
      principal: r.principal,
      claimedName: r.claimed_name,
      method: r.method,
      credentialId: r.credential_id,
      clientAddress: r.client_address,
      cause: r.cause,
      told: r.told,
      target: r.target,
      details: r.details,
      prevHash: r.prev_hash,
      hash: r.hash,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Small helpers for text that came from a client.

/** Control characters replaced, length bounded: nothing a client sent may drive the terminal. */
export function printable(value: string, max = 300): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** A word as a POSIX shell reads it: bare when harmless, else single-quoted. */
export function shellWord(value: string): string {
  const clean = printable(value, 256);
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(clean) ? clean : `'${clean.replace(/'/g, `'\\''`)}'`;
}

function localTarget(ctx: CommandContext): string {
  return `--data ${ctx.dataDir === null ? 'DIR' : shellWord(ctx.dataDir)}`;
}

function anyTarget(ctx: CommandContext): string {
  if (ctx.dataDir !== null) return `--data ${shellWord(ctx.dataDir)}`;
  return `--server ${ctx.server === null ? 'URL' : shellWord(ctx.server)}`;
}

function serverArg(ctx: CommandContext): string {
  return ctx.server === null ? 'URL' : shellWord(ctx.server);
}

const METHODS: Record<string, string> = {
  anonymous: 'no credentials',
  basic: 'HTTP Basic credentials (user name and password)',
  digest: 'an HTTP Digest response',
  bearer: 'a Bearer token',
  access_token: 'an OAuth access token',
  api_token: 'an API token',
  enrollment_token: 'an enrollment token',
  client_certificate: 'a client certificate',
  password: 'a user name and password (OAuth password grant)',
  client_credentials: 'a client id and secret',
  refresh_token: 'a refresh token',
  local: 'the local command line',
};

function describeMethod(method: string | null): string | null {
  if (method === null) return null;
  return METHODS[method] ?? `credentials of the kind "${printable(method, 40)}"`;
}

function when(at: Date): string {
  return at.toISOString();
}

function ago(from: Date, now: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} days`;
}

function firstMatch(pattern: RegExp, ...texts: Array<string | null | undefined>): string | null {
  for (const t of texts) {
    if (!t) continue;
    const m = pattern.exec(t);
    if (m?.[1] !== undefined) return m[1];
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Advice, one reason code at a time.

/** What to do about a refusal, from its reason code and, where the code is ambiguous, its internal cause. */
export function adviceFor(record: AuditRecord, ctx: CommandContext): Advice | null {
  const reason = record.reason;
  if (reason === null) return null;
  const cause = record.cause ?? '';
  const detail = record.told?.detail ?? '';
  const who = record.claimedName ?? record.principal;
  const name = who === null ? 'NAME' : shellWord(who);
  const shownName = who === null ? 'the caller' : printable(who, 80);
  const target = record.target !== null && !isRoute(record.target) ? record.target : null;
  const cn = target === null ? 'NAME' : shellWord(target);
  const local = localTarget(ctx);
  const any = anyTarget(ctx);
  switch (reason) {
    case 'credentials_missing':
      return {
        meaning: 'The request carried no credentials, and what it asked for needs them.',
        fix: 'Sign in first, or make the client send its token (`Authorization: Bearer TOKEN`) with the very first request; a script using curl needs -u USER or -H "Authorization: Bearer ...".',
        command: `certmaster login --server ${serverArg(ctx)} --user ${name}`,
      };
    case 'scheme_unsupported': {
      if (/plain HTTP/i.test(cause) || /plain HTTP/i.test(detail)) {
        return {
          meaning:
            'The client sent Basic credentials over plain HTTP from another machine; certmaster refuses them there, because the password would cross the network in the clear.',
          fix: 'Serve HTTPS (or have the client use a token), rather than sending passwords over plain HTTP.',
          command: `certmaster config set server.plain_http false ${local}`,
        };
      }
      if (/unregistered scheme/.test(cause)) {
        return {
          meaning:
            'The Authorization header did not start with a known scheme name: typically a token sent without the word "Bearer" in front of it.',
          fix: 'Send `Authorization: Bearer TOKEN`.',
          command: null,
        };
      }
      const scheme = firstMatch(/scheme (\S+) not enabled/, cause);
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
    }
    case 'credentials_malformed': {
      const algorithm = firstMatch(/algorithm (\S+) is not offered/, cause, detail);
      if (algorithm !== null) {
        return {
          meaning: `The client answered the Digest challenge with algorithm ${printable(algorithm, 20)}, which this server does not offer.`,
          fix: 'Configure the client for SHA-256, or (for legacy clients only) offer that algorithm too.',
          command: `certmaster config set auth.digest_algorithms 'SHA-256,${printable(algorithm, 20)}' ${local}`,
        };
      }
      if (/realm must be/.test(cause) || /realm must be/.test(detail)) {
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
    }
    case 'credentials_invalid':
      return credentialsInvalidAdvice(cause, shownName, name, ctx);
    case 'account_disabled': {
      const client = firstMatch(/^client (\S+) is disabled/, cause);
      if (client !== null) {
        return {
          meaning: `The secret was right, but the service account ${printable(client, 80)} is disabled.`,
          fix: 'If it should work again, create it anew (its old secret stays invalid).',
          command: `certmaster client add ${shellWord(client)} --role ROLE ${local}`,
        };
      }
      const owner =
        firstMatch(/owner (\S+) is disabled/, cause) ?? firstMatch(/^account (\S+) is disabled/, cause);
      const account = owner === null ? name : shellWord(owner);
      return {
        meaning: `The credentials were right, but the account ${owner === null ? shownName : printable(owner, 80)} is disabled${owner !== null && /token/i.test(cause) ? ' (the token acts for it)' : ''}.`,
        fix: 'If the account should work again, enable it.',
        command: `certmaster user enable ${account} ${local}`,
      };
    }
    case 'nonce_stale':
      return {
        meaning: /replayed/.test(cause)
          ? 'The client reused a digest nonce count: a replayed or duplicated request.'
          : 'The digest nonce had expired; the client was told stale=true and should retry by itself without asking for the password again.',
        fix: 'Nothing, if the next request from this client succeeded. If it keeps happening, the client ignores stale=true: upgrade it, or give nonces a longer life.',
        command: `certmaster config set auth.nonce_lifetime_seconds 900 ${local}`,
      };
    case 'token_expired': {
      if (/^access token/.test(cause) || record.method === 'access_token') {
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
    }
    case 'token_not_yet_valid':
      return {
        meaning: `The token is not valid yet (${printable(cause || detail, 160)}): the clock of this server and that of the server that issued the token disagree (clock skew).`,
        fix: 'Synchronise the clocks of every certmaster server and of the clients with NTP, then sign in again. `certmaster doctor --peer URL` measures the skew against another server.',
        command: `certmaster doctor ${local} --peer ${serverArg(ctx)}`,
      };
    case 'token_revoked':
      return tokenRevokedAdvice(cause, shownName, name, ctx);
    case 'token_invalid':
      return tokenInvalidAdvice(cause, ctx);
    case 'insufficient_scope': {
      const scope =
        firstMatch(/token lacks ([^\s;]+)/, cause) ??
        firstMatch(/scope "([^"]+)"/, detail) ??
        stringDetail(record, 'scope');
      return {
        meaning: `${shownName} is allowed this, but the token used does not carry the scope ${scope === null ? 'it needs' : `"${printable(scope, 60)}"`}${firstMatch(/; has (.*)$/, cause) ? ` (it has: ${printable(firstMatch(/; has (.*)$/, cause) ?? '', 200)})` : ''}.`,
        fix: 'Use a token with that scope: create one, or sign in again (a session carries every scope of the role).',
        command: `certmaster token create --scope ${scope === null ? 'SCOPE' : shellWord(scope)} ${any}`,
      };
    }
    case 'forbidden': {
      const scope = firstMatch(/role lacks (\S+)/, cause) ?? firstMatch(/needs "([^"]+)"/, detail);
      return {
        meaning: `${shownName} is known, but its role does not allow this${scope ? ` (it needs "${printable(scope, 60)}")` : ''}.`,
        fix: 'Do it with an account whose role allows it (admin or operator for approving, revoking and cleaning), or give the person such an account.',
        command: `certmaster user add ${name === 'NAME' ? 'NAME' : `${name}-operator`} --role operator ${local}`,
      };
    }
    case 'too_many_attempts': {
      const seconds = firstMatch(/for (\d+) s/, cause);
      if (/queue full/.test(cause)) {
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
    }
    case 'name_not_allowed':
      return {
        meaning: `${shownName} asked for names its account or enrollment token does not cover${detail ? ` (${printable(detail, 300)})` : ''}.`,
        fix: 'Ask only for the names the credential allows, or have an operator issue an enrollment token covering this name (or sign the request by hand).',
        command: `certmaster token create --enroll ${cn} --uses 1 ${any}`,
      };
    case 'csr_invalid':
      return {
        meaning: `The certificate signing request could not be used${detail ? `: ${printable(detail, 300)}` : ''}.`,
        fix: 'Make a new CSR; `certmaster request` makes a valid one, or: openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout key.pem -subj /CN=NAME -out csr.pem',
        command: `certmaster request --server ${serverArg(ctx)} --cn ${cn} --out DIR`,
      };
    case 'name_invalid': {
      const wildcard = /wildcard/i.test(detail) || /wildcard/i.test(cause);
      return {
        meaning: `A requested name is not acceptable${detail ? `: ${printable(detail, 300)}` : ''}.`,
        fix: wildcard
          ? 'Ask for host names without "*", or allow wildcard names on this CA.'
          : 'Ask for host names (RFC 1123) or IP addresses only, and no more than ra.max_names of them.',
        command: wildcard ? `certmaster config set ra.allow_wildcards true ${local}` : null,
      };
    }
    case 'key_too_weak':
      return {
        meaning: `The CSR's key is too weak for this CA${detail ? ` (${printable(detail, 200)})` : ''}.`,
        fix: 'Generate a stronger key (EC P-256 is the default of `certmaster request`; RSA needs at least ra.min_rsa_bits bits) and send a new CSR.',
        command: `certmaster request --server ${serverArg(ctx)} --cn ${cn} --out DIR`,
      };
    case 'request_conflict': {
      const holds = /already holds certificate/.test(detail) || /already holds certificate/.test(cause);
      if (holds) {
        return {
          meaning: `${target ?? 'The name'} already holds a valid certificate, and the request came with a different CSR (a new key)${detail ? `: ${printable(detail, 300)}` : ''}.`,
          fix: 'Renew with the existing certificate; or, if the old key is gone, clean the host (revokes its certificate) so it can enroll again; or allow several certificates per name.',
          command: `certmaster ca clean ${cn} ${any}`,
        };
      }
      return {
        meaning: `Another CSR for ${target ?? 'this name'} is already waiting for approval${detail ? `: ${printable(detail, 300)}` : ''}.`,
        fix: 'Sign or reject the pending request, then submit again.',
        command: `certmaster ca list --pending ${any}`,
      };
    }
    case 'request_vetoed':
      return {
        meaning: `A pre trigger of this site refused the action${detail ? `: ${printable(detail, 300)}` : ''}.`,
        fix: "Read the trigger's last output line above; the scripts are in the data directory under triggers/EVENT/pre/. Fix what it checks, or the trigger.",
        command: null,
      };
    case 'client_certificate_invalid': {
      const revoked = /revoked at/.test(cause);
      const expired = /expired at/.test(cause);
      return {
        meaning: `The client certificate presented over mutual TLS was refused: ${printable(cause || detail, 300)}.`,
        fix: revoked
          ? 'A revoked certificate never authenticates again: the host must enroll anew with an account or an enrollment token.'
          : expired
            ? 'The host let its certificate expire: it must enroll anew with an account or an enrollment token, and renew before expiry from then on (EST simplereenroll).'
            : /not yet valid/.test(cause)
              ? "The host's clock or the server's is wrong: synchronise both with NTP."
              : 'The host presented a certificate this CA did not issue, or one without clientAuth: configure it with the certificate certmaster issued it.',
        command:
          revoked || expired ? `certmaster token create --enroll ${name} --uses 1 --ttl 1h ${any}` : null,
      };
    }
    case 'enrollment_token_used_up':
      return {
        meaning: 'The enrollment token has no uses left, has expired, or was revoked.',
        fix: 'Give the host a new enrollment token.',
        command: `certmaster token create --enroll ${cn} --uses 1 --ttl 1h ${any}`,
      };
    case 'audit_unavailable':
      return {
        meaning:
          'The audit log could not be written, so the server refused to act (it never acts without a record).',
        fix: 'Find out why the store refuses writes (disk full, database down, permissions) and fix it.',
        command: `certmaster doctor ${local}`,
      };
    default:
      return {
        meaning: `Refused with reason ${printable(reason, 60)}${cause ? `: ${printable(cause, 300)}` : ''}.`,
        fix: record.told?.hint ? printable(record.told.hint, 300) : 'See what the caller was told.',
        command: null,
      };
  }
}

/** Auth refusals name the route ("GET /v1/whoami"); RA records name the host. */
function isRoute(target: string): boolean {
  return target.startsWith('/') || /^[A-Z]+ \//.test(target);
}

function toldStatus(record: AuditRecord): number | null {
  if (record.told === null) return null;
  if (record.told.status > 0) return record.told.status;
  // The RA records what it told before HTTP chose a status (0); over HTTP the reason decides it.
  if (record.method === 'local' || record.reason === null) return null;
  const status = statusOf(record.reason);
  return status === 500 && record.reason !== 'internal_error' ? null : status;
}

function stringDetail(record: AuditRecord, key: string): string | null {
  const value = record.details[key];
  return typeof value === 'string' ? value : null;
}

function credentialsInvalidAdvice(
  cause: string,
  shownName: string,
  name: string,
  ctx: CommandContext,
): Advice {
  const local = localTarget(ctx);
  const unknownUser = firstMatch(/^unknown user (.+)$/, cause);
  if (unknownUser !== null) {
    const hashed = unknownUser === 'hashed user name';
    return {
      meaning: hashed
        ? 'No account with digest secrets matches the hashed user name the client sent (userhash): the account does not exist, or was made without --digest, or for another realm.'
        : `There is no account named ${printable(unknownUser, 80)}. The caller was told only that the user name or password is not right.`,
      fix: hashed
        ? 'Check the user name; give the account digest secrets by setting its password with --digest.'
        : 'Check the spelling of the user name (names are case-sensitive); if the account should exist, create it.',
      command: hashed
        ? `certmaster user passwd NAME --digest ${local}`
        : `certmaster user add ${shellWord(unknownUser)} --role ROLE ${local}`,
    };
  }
  if (cause === 'password mismatch') {
    return {
      meaning: `The account ${shownName} exists, and the password sent was wrong.`,
      fix: 'Have the person type the password again; if it is forgotten, or a script holds an old one, set a new password.',
      command: `certmaster user passwd ${name} ${local}`,
    };
  }
  const unknownClient = firstMatch(/^unknown client (.+)$/, cause);
  if (unknownClient !== null) {
    return {
      meaning: `There is no service account (OAuth client) named ${printable(unknownClient, 80)}.`,
      fix: 'Check the client id the service uses; create the service account if it should exist.',
      command: `certmaster client add ${shellWord(unknownClient)} --role ROLE ${local}`,
    };
  }
  if (cause === 'client secret mismatch') {
    return {
      meaning: `The service account ${shownName} exists, and the secret sent was wrong.`,
      fix: 'Use the secret printed when the client was added; if it is lost, remove the client and add it again (a new secret is printed once).',
      command: `certmaster client remove ${name} ${local} && certmaster client add ${name} --role ROLE ${local}`,
    };
  }
  if (/has no digest secrets/.test(cause)) {
    return {
      meaning: `${shownName} signed in with HTTP Digest, but the account has no digest secrets: it was created without --digest, or they were sealed with another DIR/secrets/auth.key.`,
      fix: 'Set the password again with --digest (or have the client use Basic over HTTPS, or a token).',
      command: `certmaster user passwd ${name} --digest ${local}`,
    };
  }
  const realms = /made for realm "([^"]*)", not "([^"]*)"/.exec(cause);
  if (realms !== null) {
    return {
      meaning: `${shownName}'s digest secrets were made for realm "${printable(realms[1] ?? '', 100)}", but auth.realm is now "${printable(realms[2] ?? '', 100)}": changing the realm made them useless (RFC 7616 binds them to it).`,
      fix: 'Set the password again with --digest, or set auth.realm back.',
      command: `certmaster user passwd ${name} --digest ${local}`,
    };
  }
  if (/digest response mismatch/.test(cause)) {
    return {
      meaning: `The account ${shownName} exists; its Digest response does not match the stored password: the password was wrong.`,
      fix: 'Have the person type the password again; if it is forgotten, set a new one (keeping --digest).',
      command: `certmaster user passwd ${name} --digest ${local}`,
    };
  }
  if (/nonce not issued by this server/.test(cause)) {
    return {
      meaning:
        'The Digest nonce was not made by this server: the client reused a nonce of another server, or replicas do not share the same DIR/secrets/auth.key.',
      fix: 'Give every replica the same secrets/auth.key file (mode 0600), then let the client start afresh.',
      command: null,
    };
  }
  return {
    meaning: `The credentials were not valid${cause ? ` (${printable(cause, 200)})` : ''}.`,
    fix: 'Check the user name and password, or the client id and secret, the caller uses.',
    command: null,
  };
}

function tokenRevokedAdvice(cause: string, shownName: string, name: string, ctx: CommandContext): Advice {
  const any = anyTarget(ctx);
  const usedUp = firstMatch(/^enrollment token (\S+) used up/, cause);
  if (usedUp !== null) {
    return {
      meaning: `The enrollment token ${printable(usedUp, 80)} has no uses left.`,
      fix: 'Give the host a new enrollment token.',
      command: `certmaster token create --enroll PATTERN --uses 1 ${any}`,
    };
  }
  const removed = firstMatch(/owner (\S+) was removed/, cause);
  if (removed !== null) {
    return {
      meaning: `The token acts for the account ${printable(removed, 80)}, which was removed.`,
      fix: 'Create a token for an account that exists.',
      command: `certmaster token create --scope SCOPE ${any}`,
    };
  }
  if (/^access token/.test(cause)) {
    return {
      meaning: `The access token of ${shownName} was revoked (${printable(cause, 200)}): the user logged out, an operator revoked the session, or a reused refresh token revoked its whole family.`,
      fix: 'Sign in again. If it happens without anyone logging out, two programs share one login and rotate its refresh token: give each its own session or token.',
      command: `certmaster login --server ${serverArg(ctx)} --user ${name}`,
    };
  }
  const token = firstMatch(/^token (\S+) revoked/, cause);
  return {
    meaning: `The token ${token === null ? '' : `${printable(token, 80)} `}was revoked${cause ? ` (${printable(cause, 200)})` : ''}.`,
    fix: 'Give the client a new token; `certmaster token list` shows the tokens that still work.',
    command: `certmaster token create --scope SCOPE ${any}`,
  };
}

function tokenInvalidAdvice(cause: string, ctx: CommandContext): Advice {
  const login = `certmaster login --server ${serverArg(ctx)}`;
  if (/no API or enrollment token has this hash/.test(cause)) {
    return {
      meaning:
        'The token is not one this certmaster made: mistyped, truncated, or made by another certmaster (another data directory).',
      fix: 'Copy the whole token again (it is printed once, by `certmaster token create`), or create a new one.',
      command: `certmaster token create --scope SCOPE ${anyTarget(ctx)}`,
    };
  }
  if (/signing key/.test(cause)) {
    return {
      meaning:
        'The access token was signed by a key this server does not know: the key was rotated away long ago, or the token comes from another certmaster.',
      fix: 'Sign in again at this server.',
      command: login,
    };
  }
  if (/claim (iss|aud)/.test(cause)) {
    return {
      meaning:
        'The access token was issued for another server address: certmaster names itself by the URL it serves, and the token names another.',
      fix: 'Sign in at the URL the client uses, and use the same URL everywhere (e.g. not 127.0.0.1 in one place and a host name in another).',
      command: login,
    };
  }
  if (/signature/.test(cause)) {
    return {
      meaning: 'The access token signature does not verify: it was altered, or forged.',
      fix: 'Sign in again; if nobody should have been sending such tokens, find who did (the address is above).',
      command: login,
    };
  }
  return {
    meaning: `The bearer token is not valid here${cause ? ` (${printable(cause, 200)})` : ''}.`,
    fix: 'Sign in again, or create a new token.',
    command: login,
  };
}

// ---------------------------------------------------------------------------------------------
// One request's story.

/** The record a request's outcome rests on: the last refusal, else the last record. */
function decisiveRecord(records: AuditRecord[]): AuditRecord | undefined {
  const failures = records.filter((r) => r.outcome === 'failure');
  return failures[failures.length - 1] ?? records[records.length - 1];
}

/** The story of one request from its records (oldest first); null when there are none. */
export function requestStory(
  requestId: string,
  records: AuditRecord[],
  ctx: CommandContext,
): RequestStory | null {
  const ordered = [...records].sort((a, b) => a.seq - b.seq);
  const decisive = decisiveRecord(ordered);
  if (decisive === undefined) return null;
  const sentences: string[] = [];
  const status = toldStatus(decisive);
  const refused = decisive.outcome === 'failure';
  sentences.push(
    refused
      ? `Request ${printable(requestId, 100)} was refused at ${when(decisive.at)}${status ? ` with HTTP ${status}` : ''}${decisive.reason ? `, reason ${printable(decisive.reason, 60)}` : ''}.`
      : `Request ${printable(requestId, 100)} succeeded at ${when(decisive.at)} (${printable(decisive.kind, 40)}).`,
  );
  sentences.push(callerSentence(decisive));
  const method = describeMethod(decisive.method);
  const credential = decisive.credentialId ? ` (token id ${printable(decisive.credentialId, 100)})` : '';
  if (method !== null) sentences.push(`It sent ${method}${credential}.`);
  else if (credential) sentences.push(`It sent a credential${credential}.`);
  if (decisive.target !== null) {
    sentences.push(
      isRoute(decisive.target)
        ? `It asked for ${printable(decisive.target, 200)}.`
        : `It acted on ${printable(decisive.target, 200)}.`,
    );
  }
  const details = describeDetails(decisive.details);
  if (details) sentences.push(`Details: ${details}.`);
  if (refused && decisive.cause) {
    sentences.push(
      `Why (for operators only; the caller was not told this): ${printable(decisive.cause, 500).replace(/\.$/, '')}.`,
    );
  }
  if (decisive.told) {
    sentences.push(
      `The caller was told${status === null ? '' : ` ${status}`}: "${printable(decisive.told.detail, 400)}"; hint: "${printable(decisive.told.hint, 400)}".`,
    );
  }
  const advice = refused ? adviceFor(decisive, ctx) : null;
  if (advice) {
    sentences.push(`What it means: ${advice.meaning}`);
    sentences.push(`What to do: ${advice.fix}`);
    if (advice.command) sentences.push(`Run: ${advice.command}`);
  }
  return { requestId, decisive, records: ordered, sentences, advice };
}

function callerSentence(r: AuditRecord): string {
  const caller = r.clientAddress ? `The caller at ${printable(r.clientAddress, 60)}` : 'The caller';
  const principal = r.principal;
  if (principal !== null && principal !== 'anonymous') {
    const claimed =
      r.claimedName !== null && r.claimedName !== principal
        ? ` (it claimed to be ${printable(r.claimedName, 80)})`
        : '';
    return `${caller} was authenticated as ${printable(principal, 80)}${claimed}.`;
  }
  if (r.claimedName !== null) {
    return principal === 'anonymous'
      ? `${caller} was anonymous, and named ${printable(r.claimedName, 80)}.`
      : `${caller} claimed to be ${printable(r.claimedName, 80)}, and was not authenticated.`;
  }
  return principal === 'anonymous'
    ? `${caller} was anonymous.`
    : `${caller} did not say who it was, and was not authenticated.`;
}

const MAX_DETAIL_ENTRIES = 10;

function describeDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .slice(0, MAX_DETAIL_ENTRIES)
    .map(
      ([key, value]) =>
        `${printable(key, 40)}=${printable(typeof value === 'string' ? value : (JSON.stringify(value) ?? ''), 200)}`,
    )
    .join(', ');
}

/** The story as text: the sentences, then every record of the request. */
export function renderRequestStory(story: RequestStory): string {
  const lines = [...story.sentences];
  if (story.records.length > 1) {
    lines.push('', `Records (${story.records.length}):`);
    for (const r of story.records) {
      lines.push(
        `  #${r.seq} ${when(r.at)} ${printable(r.kind, 40)} ${r.phase} ${r.outcome}${r.reason ? ` ${printable(r.reason, 60)}` : ''}${r.cause ? `: ${printable(r.cause, 200)}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The story as JSON for `--json`. */
export function requestStoryJson(story: RequestStory) {
  return {
    request_id: story.requestId,
    outcome: story.decisive.outcome,
    reason: story.decisive.reason,
    cause: story.decisive.cause,
    told: story.decisive.told,
    story: story.sentences,
    advice: story.advice,
    records: story.records.map(auditRecordJson),
  };
}

/** Reads a request's records from the store; null when there are none. */
export async function explainRequest(
  store: Pick<AuditStore, 'queryAudit'>,
  requestId: string,
  ctx: CommandContext,
): Promise<RequestStory | null> {
  const records = await store.queryAudit({ requestId, limit: MAX_WIRE_RECORDS });
  return requestStory(requestId, records, ctx);
}

// ---------------------------------------------------------------------------------------------
// One host: why can't it get or renew a certificate?

export type HostVerdict = 'ok' | 'waiting' | 'blocked' | 'unknown';

export interface HostFinding {
  /** blocking: stops the host; waiting: someone must act; info: worth knowing. */
  severity: 'blocking' | 'waiting' | 'info';
  code: string;
  message: string;
  fix: string | null;
  command: string | null;
  /** The request to `certmaster explain`, when a refusal is behind the finding. */
  requestId: string | null;
}

export interface HostDiagnosis {
  name: string;
  verdict: HostVerdict;
  /** The certificate it holds now (valid, not revoked), if any. */
  holding: { serial: string; notAfter: Date } | null;
  findings: HostFinding[];
}

export type HostSources = Pick<Store, 'listRequests' | 'listCertificates'> & Pick<AuditStore, 'queryAudit'>;

/** How far back a host's history is read: its latest requests, certificates and audit records. */
const HOST_HISTORY = 20;
const HOST_AUDIT_HISTORY = 100;
/** Recent refusals of anyone, searched for ones that name the host only in passing. */
const RECENT_FAILURES_SCANNED = 500;
/** Refusals shown per host (the newest of each reason). */
const MAX_HOST_REFUSALS = 5;
const RENEW_WARNING_DAYS = 30;

export async function explainHost(
  sources: HostSources,
  name: string,
  ctx: CommandContext,
  clock: Clock,
): Promise<HostDiagnosis> {
  const [requests, certificates, byTarget, byPrincipal, recentFailures] = await Promise.all([
    sources.listRequests({ commonName: name, limit: HOST_HISTORY }),
    sources.listCertificates({ status: 'all', commonName: name, limit: HOST_HISTORY }),
    sources.queryAudit({ target: name, outcome: 'failure', newestFirst: true, limit: HOST_AUDIT_HISTORY }),
    sources.queryAudit({ principal: name, outcome: 'failure', newestFirst: true, limit: HOST_AUDIT_HISTORY }),
    sources.queryAudit({ outcome: 'failure', newestFirst: true, limit: RECENT_FAILURES_SCANNED }),
  ]);
  const audit = new Map<number, AuditRecord>();
  for (const r of [...byTarget, ...byPrincipal]) audit.set(r.seq, r);
  // A host account that failed to sign in is only the name it claimed; a submission refused before
  // its CSR was read names no target, only what it was told.
  for (const r of recentFailures) {
    const claimed = r.claimedName !== null && r.claimedName.toLowerCase() === name;
    const told = r.target === null && (mentionsName(r.told?.detail, name) || mentionsName(r.cause, name));
    if (claimed || told) audit.set(r.seq, r);
  }
  return diagnoseHost(name, requests, certificates, [...audit.values()], ctx, clock.now());
}

/** True when `text` names `name` as a whole host name (not as part of a longer one). */
function mentionsName(text: string | null | undefined, name: string): boolean {
  if (!text) return false;
  const lower = text.toLowerCase();
  const wanted = name.toLowerCase();
  for (let at = lower.indexOf(wanted); at !== -1; at = lower.indexOf(wanted, at + 1)) {
    const before = lower[at - 1];
    const after = lower[at + wanted.length];
    const part = (c: string | undefined) => c !== undefined && /[a-z0-9*-]/.test(c);
    // "a.example.com" inside "www.a.example.com" is another name: a dot before it continues the name.
    if (
      !part(before) &&
      before !== '.' &&
      !part(after) &&
      !(after === '.' && part(lower[at + wanted.length + 1]))
    ) {
      return true;
    }
  }
  return false;
}

/** The diagnosis from a host's requests and certificates (newest first) and audit records (any order). */
export function diagnoseHost(
  name: string,
  requests: CertificateRequest[],
  certificates: IssuedCertificate[],
  audit: AuditRecord[],
  ctx: CommandContext,
  now: Date,
): HostDiagnosis {
  const findings: HostFinding[] = [];
  const cn = shellWord(name);
  const any = anyTarget(ctx);
  const t = now.getTime();
  const valid = certificates.find(
    (c) => c.revokedAt === null && c.notBefore.getTime() <= t && c.notAfter.getTime() > t,
  );
  const latestRequest = requests[0];
  const latestCertificate = certificates[0];

  if (latestRequest?.state === 'pending') {
    findings.push({
      severity: 'waiting',
      code: 'pending_approval',
      message: `Request ${latestRequest.id} (${printable(latestRequest.keyDescription, 40)} key, from ${printable(latestRequest.requester, 80)} at ${printable(latestRequest.clientAddress, 60)}) has been waiting for an operator since ${when(latestRequest.createdAt)} (${ago(latestRequest.createdAt, now)}).`,
      fix: `Sign it if ${printable(name, 100)} should have a certificate (or reject it); to sign such names without waiting, widen ra.autosign.`,
      command: `certmaster ca sign ${cn} ${any}`,
      requestId: latestRequest.id,
    });
  }
  if (latestRequest?.state === 'rejected') {
    findings.push({
      severity: 'blocking',
      code: 'rejected',
      message: `Request ${latestRequest.id} was rejected by ${printable(latestRequest.decidedBy ?? 'an operator', 80)} at ${when(latestRequest.updatedAt)}${latestRequest.rejectionReason ? `: "${printable(latestRequest.rejectionReason, 300)}"` : ' (no reason given)'}. Sending the same CSR again returns the same rejection.`,
      fix: 'If the host should have a certificate after all, clean it so it can submit again (or have it make a new key and CSR).',
      command: `certmaster ca clean ${cn} ${any}`,
      requestId: latestRequest.id,
    });
  }
  if (valid === undefined && latestCertificate !== undefined) {
    if (latestCertificate.revokedAt !== null) {
      findings.push({
        severity: 'blocking',
        code: 'revoked',
        message: `Its latest certificate ${latestCertificate.serial} was revoked at ${when(latestCertificate.revokedAt)} (reason ${printable(latestCertificate.revocationReason ?? 'unspecified', 60)}); it holds no valid certificate.`,
        fix: 'A revoked certificate cannot be renewed: the host must enroll again with a new key.',
        command: `certmaster request --server ${serverArg(ctx)} --cn ${cn} --out DIR`,
        requestId: null,
      });
    } else if (latestCertificate.notAfter.getTime() <= t) {
      findings.push({
        severity: 'blocking',
        code: 'expired',
        message: `Its latest certificate ${latestCertificate.serial} expired at ${when(latestCertificate.notAfter)} (${ago(latestCertificate.notAfter, now)} ago); it holds no valid certificate.`,
        fix: 'An expired certificate cannot be used to renew: the host must enroll again (and its renewal job, `certmaster renew` or `certmaster agent`, should run well before expiry).',
        command: `certmaster request --server ${serverArg(ctx)} --cn ${cn} --out DIR`,
        requestId: null,
      });
    } else if (latestCertificate.notBefore.getTime() > t) {
      findings.push({
        severity: 'blocking',
        code: 'clock_skew',
        message: `Its certificate ${latestCertificate.serial} is not valid before ${when(latestCertificate.notBefore)}, which is in the future for this machine: the clocks disagree.`,
        fix: 'Synchronise the clocks of the certmaster servers and of this machine with NTP.',
        command: `certmaster doctor --data ${ctx.dataDir === null ? 'DIR' : shellWord(ctx.dataDir)} --peer ${serverArg(ctx)}`,
        requestId: null,
      });
    }
  }

  // Refusals since its last certificate was issued are what stop it now (a renewal that fails).
  const since = latestCertificate?.createdAt.getTime() ?? Number.NEGATIVE_INFINITY;
  const refusals = audit
    .filter((r) => r.outcome === 'failure' && r.reason !== null && r.at.getTime() >= since)
    .sort((a, b) => b.seq - a.seq);
  const seen = new Set<string>();
  for (const r of refusals) {
    const reason = r.reason ?? '';
    if (seen.has(reason) || seen.size >= MAX_HOST_REFUSALS) continue;
    seen.add(reason);
    const advice = adviceFor({ ...r, target: r.target ?? name }, ctx);
    findings.push({
      severity: 'blocking',
      code: reason === 'token_not_yet_valid' ? 'clock_skew' : reason,
      message: `At ${when(r.at)} a request${r.clientAddress ? ` from ${printable(r.clientAddress, 60)}` : ''} was refused (${printable(reason, 60)}${toldStatus(r) === null ? '' : `, HTTP ${toldStatus(r)}`})${r.cause ? `: ${printable(r.cause, 300)}` : ''}.${advice ? ` ${advice.meaning}` : ''} For the whole story: certmaster explain ${shellWord(r.requestId)} ${any}`,
      fix: advice?.fix ?? null,
      command: advice?.command ?? null,
      requestId: r.requestId,
    });
  }

  if (valid !== undefined) {
    const daysLeft = (valid.notAfter.getTime() - t) / 86_400_000;
    if (daysLeft < RENEW_WARNING_DAYS) {
      findings.push({
        severity: 'info',
        code: 'expires_soon',
        message: `Its certificate ${valid.serial} expires in ${Math.floor(daysLeft)} days (${when(valid.notAfter)}).`,
        fix: 'Renew it now (`certmaster renew` on the host, or its agent).',
        command: null,
        requestId: null,
      });
    }
  }

  const verdict: HostVerdict = findings.some((f) => f.severity === 'blocking')
    ? 'blocked'
    : findings.some((f) => f.severity === 'waiting')
      ? 'waiting'
      : valid !== undefined
        ? 'ok'
        : 'unknown';
  return {
    name,
    verdict,
    holding: valid === undefined ? null : { serial: valid.serial, notAfter: valid.notAfter },
    findings,
  };
}

/** The diagnosis as text. */
export function renderHostDiagnosis(d: HostDiagnosis): string {
  const name = printable(d.name, 200);
  const lines: string[] = [];
  if (d.verdict === 'ok' && d.holding) {
    lines.push(
      `Nothing wrong: ${name} holds certificate ${d.holding.serial}, valid until ${when(d.holding.notAfter)}.`,
    );
  } else if (d.verdict === 'unknown') {
    lines.push(
      `certmaster has no record of ${name}: no request, certificate or refusal names it. Check the exact name the host asks for (\`certmaster ca list --all\`) and that the host reaches this server.`,
    );
  } else {
    const holding = d.holding
      ? ` It holds certificate ${d.holding.serial}, valid until ${when(d.holding.notAfter)}.`
      : ' It holds no valid certificate.';
    lines.push(
      `${name} ${d.verdict === 'waiting' ? 'is waiting for an operator' : 'cannot get or renew a certificate'}.${holding}`,
    );
  }
  for (const f of d.findings) {
    lines.push('', `- ${f.message}`);
    if (f.fix) lines.push(`  What to do: ${f.fix}`);
    if (f.command) lines.push(`  Run: ${f.command}`);
  }
  return `${lines.join('\n')}\n`;
}

export function hostDiagnosisJson(d: HostDiagnosis) {
  return {
    name: d.name,
    verdict: d.verdict,
    holding: d.holding ? { serial: d.holding.serial, not_after: d.holding.notAfter.toISOString() } : null,
    findings: d.findings.map((f) => ({
      severity: f.severity,
      code: f.code,
      message: f.message,
      fix: f.fix,
      command: f.command,
      request_id: f.requestId,
    })),
  };
}
