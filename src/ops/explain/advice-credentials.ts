/** Advice for the reasons whose internal cause tells several stories apart: bad credentials and tokens. */
import type { RefusalCause } from '../../contract/refusal-cause.js';
import {
  type Advice,
  anyTarget,
  type CommandContext,
  localTarget,
  printable,
  serverArg,
  shellWord,
} from './text.js';

export function credentialsInvalidAdvice(
  facts: RefusalCause | null,
  cause: string,
  shownName: string,
  name: string,
  ctx: CommandContext,
): Advice {
  const local = localTarget(ctx);
  switch (facts?.code) {
    case 'unknown_user':
      return facts.hashed
        ? {
            meaning:
              'No account with digest secrets matches the hashed user name the client sent (userhash): the account does not exist, or was made without --digest, or for another realm.',
            fix: 'Check the user name; give the account digest secrets by setting its password with --digest.',
            command: `certmaster user passwd NAME --digest ${local}`,
          }
        : {
            meaning: `There is no account named ${printable(facts.name, 80)}. The caller was told only that the user name or password is not right.`,
            fix: 'Check the spelling of the user name (names are case-sensitive); if the account should exist, create it.',
            command: `certmaster user add ${shellWord(facts.name)} --role ROLE ${local}`,
          };
    case 'password_mismatch':
      return {
        meaning: `The account ${printable(facts.account, 80)} exists, and the password sent was wrong.`,
        fix: 'Have the person type the password again; if it is forgotten, or a script holds an old one, set a new password.',
        command: `certmaster user passwd ${shellWord(facts.account)} ${local}`,
      };
    case 'unknown_client':
      return {
        meaning: `There is no service account (OAuth client) named ${printable(facts.client, 80)}.`,
        fix: 'Check the client id the service uses; create the service account if it should exist.',
        command: `certmaster client add ${shellWord(facts.client)} --role ROLE ${local}`,
      };
    case 'client_secret_mismatch': {
      const client = shellWord(facts.client);
      return {
        meaning: `The service account ${printable(facts.client, 80)} exists, and the secret sent was wrong.`,
        fix: 'Use the secret printed when the client was added; if it is lost, remove the client and add it again (a new secret is printed once).',
        command: `certmaster client remove ${client} ${local} && certmaster client add ${client} --role ROLE ${local}`,
      };
    }
    case 'digest_secrets_missing':
      return {
        meaning: `${printable(facts.account, 80)} signed in with HTTP Digest, but the account has no digest secrets: it was created without --digest, or they were sealed with another DIR/secrets/auth.key.`,
        fix: 'Set the password again with --digest (or have the client use Basic over HTTPS, or a token).',
        command: `certmaster user passwd ${shellWord(facts.account)} --digest ${local}`,
      };
    case 'digest_realm_changed':
      return {
        meaning: `${printable(facts.account, 80)}'s digest secrets were made for realm "${printable(facts.madeFor, 100)}", but auth.realm is now "${printable(facts.current, 100)}": changing the realm made them useless (RFC 7616 binds them to it).`,
        fix: 'Set the password again with --digest, or set auth.realm back.',
        command: `certmaster user passwd ${shellWord(facts.account)} --digest ${local}`,
      };
    case 'digest_response_mismatch':
      return {
        meaning: `The account ${printable(facts.account, 80)} exists; its Digest response does not match the stored password: the password was wrong.`,
        fix: 'Have the person type the password again; if it is forgotten, set a new one (keeping --digest).',
        command: `certmaster user passwd ${shellWord(facts.account)} --digest ${local}`,
      };
    case 'nonce_forged':
      return {
        meaning:
          'The Digest nonce was not made by this server: the client reused a nonce of another server, or replicas do not share the same DIR/secrets/auth.key.',
        fix: 'Give every replica the same secrets/auth.key file (mode 0600), then let the client start afresh.',
        command: null,
      };
  }
  return {
    meaning: `The credentials of ${shownName} were not valid${cause ? ` (${printable(cause, 200)})` : ''}.`,
    fix: `Check the user name and password, or the client id and secret, the caller uses${name === 'NAME' ? '' : ` (the caller claimed to be ${shownName})`}.`,
    command: null,
  };
}

/** From the typed cause alone: a record without one (another version's) gets the general advice. */
export function tokenRevokedAdvice(
  facts: RefusalCause | null,
  cause: string,
  shownName: string,
  name: string,
  ctx: CommandContext,
): Advice {
  const any = anyTarget(ctx);
  const login = `certmaster login --server ${serverArg(ctx)}${name === 'NAME' ? '' : ` --user ${name}`}`;
  if (facts?.code === 'refresh_token_reused') {
    // RFC 9700 §4.14: only a second use of a rotated token is the theft signal; a logout is not.
    return facts.usedAt !== null
      ? {
          meaning: `A refresh token of ${shownName} was used a second time (first at ${facts.usedAt}), so every token of that sign-in (family ${printable(facts.family, 60)}, ${facts.revokedCount} tokens) was revoked: two programs share one login, or the token leaked.`,
          fix: 'Sign in again. Give each program its own session or token; if no program of yours used it twice, treat the login as leaked and change the password.',
          command: login,
        }
      : {
          meaning: `The sign-in of ${shownName} had ended (logged out or revoked at ${facts.revokedAt ?? 'an earlier time'}) and its refresh token was presented afterwards. Nothing suggests a leak.`,
          fix: 'Sign in again.',
          command: login,
        };
  }
  if (facts?.code === 'refresh_owner_gone') {
    return {
      meaning: `The sign-in acts for the account ${printable(facts.account, 80)}, which was ${facts.removed ? 'removed' : 'disabled'} since; the whole sign-in was revoked.`,
      fix: facts.removed
        ? 'Sign in with an account that exists.'
        : 'If the account should work again, enable it, then sign in again.',
      command: facts.removed
        ? login
        : `certmaster user enable ${shellWord(facts.account)} ${localTarget(ctx)}`,
    };
  }
  if (facts?.code === 'token_owner_removed') {
    return {
      meaning: `The token acts for the account ${printable(facts.owner, 80)}, which was removed.`,
      fix: 'Create a token for an account that exists.',
      command: `certmaster token create --scope SCOPE ${any}`,
    };
  }
  if (facts?.code === 'token_revoked' && facts.kind === 'access') {
    return {
      meaning: `The access token of ${shownName} was revoked (${printable(cause, 200)}): the user logged out, an operator revoked the session, or a reused refresh token revoked its whole family.`,
      fix: 'Sign in again. If it happens without anyone logging out, two programs share one login and rotate its refresh token: give each its own session or token.',
      command: `certmaster login --server ${serverArg(ctx)} --user ${name}`,
    };
  }
  const token = facts?.code === 'token_revoked' ? facts.token : null;
  return {
    meaning: `The token ${token === null ? '' : `${printable(token, 80)} `}was revoked${cause ? ` (${printable(cause, 200)})` : ''}.`,
    fix: 'Give the client a new token; `certmaster token list` shows the tokens that still work.',
    command: `certmaster token create --scope SCOPE ${any}`,
  };
}

/** From the typed cause alone: a record without one (another version's) gets the general advice. */
export function tokenInvalidAdvice(facts: RefusalCause | null, cause: string, ctx: CommandContext): Advice {
  const login = `certmaster login --server ${serverArg(ctx)}`;
  switch (facts?.code) {
    case 'refresh_token_unknown':
      return {
        meaning:
          'The refresh token is not one this server issued: mistyped, truncated, from another certmaster, or from a database restored from an older backup.',
        fix: 'Sign in again; the CLI stores the new refresh token by itself.',
        command: login,
      };
    case 'refresh_token_foreign':
      return {
        meaning: `The refresh token was issued to the client ${printable(facts.issuedTo, 80)} and presented by ${printable(facts.presentedBy, 80)}: a refresh token works only for the client it was issued to (RFC 6749 §6).`,
        fix: `Refresh it as ${printable(facts.issuedTo, 80)}, or sign in anew as the client that presented it.`,
        command: login,
      };
    case 'token_unknown':
      return {
        meaning:
          'The token is not one this certmaster made: mistyped, truncated, or made by another certmaster (another data directory).',
        fix: 'Copy the whole token again (it is printed once, by `certmaster token create`), or create a new one.',
        command: `certmaster token create --scope SCOPE ${anyTarget(ctx)}`,
      };
    case 'token_signing_key_unknown':
      return {
        meaning:
          'The access token was signed by a key this server does not know: the key was rotated away long ago, or the token comes from another certmaster.',
        fix: 'Sign in again at this server.',
        command: login,
      };
    case 'token_claim_mismatch':
      if (facts.claim !== 'iss' && facts.claim !== 'aud') break;
      return {
        meaning:
          'The access token was issued for another server address: certmaster names itself by the URL it serves, and the token names another.',
        fix: 'Sign in at the URL the client uses, and use the same URL everywhere (e.g. not 127.0.0.1 in one place and a host name in another).',
        command: login,
      };
    case 'token_signature_invalid':
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
