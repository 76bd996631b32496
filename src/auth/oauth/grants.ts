/**
 * The three grants of the token endpoint (RFC 6749):
 * - `password` (§4.3) only for the first-party public client `certmaster-cli` (`certmaster login`):
 *   client_id=certmaster-cli and no secret. No third party ever sees a password, which is the only
 *   case in which RFC 9700 §2.4 tolerates this grant. Returns a rotating refresh token.
 * - `client_credentials` (§4.4) for service accounts (confidential clients); no refresh token (§4.4.3).
 * - `refresh_token` (§6) with rotation and reuse detection (RFC 9700 §4.14.2); `scope` may narrow,
 *   never widen.
 * Each returns the tokens and what the audit log records of the grant; refusals are OAuthErrors.
 */

import type { Role } from '../../types.js';
import { AuthFailure } from '../failure.js';
import type { OAuthAccounts } from '../identity-queries.js';
import type { AccessTokens } from '../tokens/access-tokens.js';
import { OAuthError } from '../tokens/oauth-error.js';
import type { RefreshTokens } from '../tokens/refresh-tokens.js';
import type { OAuthCaller } from './caller.js';
import type { CallingClient } from './client-authentication.js';
import { LOGIN_HINT, type Params, passwordFailure, required } from './failures.js';
import { clientCredentialsScopes, passwordGrantScopes, refreshScopes } from './scope-decisions.js';

const MAX_USERNAME_CHARS = 256;
const MAX_PASSWORD_CHARS = 4096;

export type GrantType = 'password' | 'client_credentials' | 'refresh_token';

export interface GrantDeps {
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  store: Pick<OAuthAccounts, 'getUser'>;
  accessTokenTtlSeconds: number;
  firstPartyClientId: string;
  /** Checks a password with throttling and equal cost for unknown users; throws AuthFailure. */
  verifyPassword(
    username: string,
    password: string,
    clientAddress: string,
  ): Promise<{ name: string; role: Role }>;
  /** Called (and awaited) just before a refresh token is spent; throwing stops the rotation. */
  beforeRotation?: (info: {
    requestId: string;
    subject: string;
    clientId: string;
    familyId: string;
  }) => Promise<void>;
}

/** The tokens of a grant and what the audit log keeps of it (never a secret). */
export interface Grant {
  accessToken: string;
  scopes: string[];
  /** Only the password and refresh grants hand one out. */
  refreshToken?: string;
  record: {
    grantType: GrantType;
    clientId: string;
    subject: string;
    /** The access token's jti. */
    tokenId: string;
    familyId?: string;
  };
}

/** Runs the grant the request names; OAuthError for a missing or unsupported one. */
export async function grantTokens(
  grantType: string | undefined,
  params: Params,
  client: CallingClient,
  caller: OAuthCaller,
  deps: GrantDeps,
): Promise<Grant> {
  switch (grantType) {
    case 'password':
      return passwordGrant(params, client, caller, deps);
    case 'client_credentials':
      return clientCredentialsGrant(params, client, deps);
    case 'refresh_token':
      return refreshGrant(params, client, caller, deps);
    case undefined:
      throw new OAuthError(
        'invalid_request',
        'grant_type is missing',
        'send grant_type=password, client_credentials or refresh_token',
        { code: 'oauth_request_malformed', problem: 'parameter_missing', parameter: 'grant_type' },
      );
    default:
      throw new OAuthError(
        'unsupported_grant_type',
        'this server does not support that grant type',
        'use grant_type=password, client_credentials or refresh_token',
        { code: 'grant_type_unsupported', grantType: grantType.slice(0, 64) },
      );
  }
}

async function passwordGrant(
  params: Params,
  client: CallingClient,
  caller: OAuthCaller,
  deps: GrantDeps,
): Promise<Grant> {
  if (client.record !== null || client.clientId !== deps.firstPartyClientId) {
    throw new OAuthError(
      'unauthorized_client',
      `the password grant is only for ${deps.firstPartyClientId}`,
      'service accounts use grant_type=client_credentials',
      { code: 'client_not_allowed', client: client.clientId, act: 'password_grant' },
    );
  }
  const username = required(params, 'username');
  const password = required(params, 'password');
  if (username.length > MAX_USERNAME_CHARS || password.length > MAX_PASSWORD_CHARS) {
    throw new OAuthError(
      'invalid_request',
      'the user name or password is too long',
      `user names have at most ${MAX_USERNAME_CHARS} characters, passwords at most ${MAX_PASSWORD_CHARS}`,
      { code: 'oauth_request_malformed', problem: 'too_long', parameter: 'username or password' },
    );
  }
  const insecure = caller.secretRefusal('password');
  if (insecure !== null) throw insecure;
  let account: { name: string; role: Role };
  try {
    account = await deps.verifyPassword(username, password, caller.address);
  } catch (error) {
    if (!(error instanceof AuthFailure)) throw error;
    throw passwordFailure(error, username);
  }
  const scopes = passwordGrantScopes(params.scope, account.role);
  const refresh = await deps.refreshTokens.issue({
    subject: account.name,
    clientId: client.clientId,
    scopes,
  });
  const access = await deps.accessTokens.issue({
    subject: account.name,
    clientId: client.clientId,
    scopes,
    roles: [account.role],
    familyId: refresh.record.familyId,
    ttlSeconds: deps.accessTokenTtlSeconds,
  });
  return {
    accessToken: access.token,
    scopes,
    refreshToken: refresh.token,
    record: {
      grantType: 'password',
      clientId: client.clientId,
      subject: account.name,
      tokenId: access.jti,
      familyId: refresh.record.familyId,
    },
  };
}

async function clientCredentialsGrant(
  params: Params,
  client: CallingClient,
  deps: GrantDeps,
): Promise<Grant> {
  const record = client.record;
  if (record === null) {
    throw new OAuthError(
      'unauthorized_client',
      'the client_credentials grant is for service accounts that authenticate with a secret',
      'people sign in with `certmaster login` (the password grant)',
      { code: 'client_not_allowed', client: client.clientId, act: 'client_credentials_grant' },
    );
  }
  const scopes = clientCredentialsScopes(params.scope, record);
  // RFC 9068 §2.2: with no resource owner, the subject is the client itself.
  const access = await deps.accessTokens.issue({
    subject: record.clientId,
    clientId: record.clientId,
    scopes,
    roles: [record.role],
    familyId: null,
    ttlSeconds: deps.accessTokenTtlSeconds,
  });
  // §4.4.3: no refresh token; the client can always ask again with its secret.
  return {
    accessToken: access.token,
    scopes,
    record: {
      grantType: 'client_credentials',
      clientId: record.clientId,
      subject: record.clientId,
      tokenId: access.jti,
    },
  };
}

async function refreshGrant(
  params: Params,
  client: CallingClient,
  caller: OAuthCaller,
  deps: GrantDeps,
): Promise<Grant> {
  const presented = required(params, 'refresh_token');
  let granted: { scopes: string[]; role: Role } | undefined;
  const rotated = await deps.refreshTokens.rotate(presented, client.clientId, async (record) => {
    // The account behind a refresh token must still exist and be enabled.
    const user = await deps.store.getUser(record.subject);
    if (user === null || user.disabled) {
      await deps.refreshTokens.revokeFamily(record.familyId);
      throw new OAuthError(
        'invalid_grant',
        'the refresh token is no longer valid',
        LOGIN_HINT,
        {
          code: 'refresh_owner_gone',
          account: record.subject,
          family: record.familyId,
          removed: user === null,
        },
        { reason: 'token_revoked' },
      );
    }
    granted = { scopes: refreshScopes(params.scope, record, user.role), role: user.role };
    // Recorded before the old token is spent: if the audit log is down the client keeps a
    // working refresh token, and its retry is not mistaken for reuse.
    await deps.beforeRotation?.({
      requestId: caller.requestId,
      subject: record.subject,
      clientId: record.clientId,
      familyId: record.familyId,
    });
  });
  if (granted === undefined) throw new Error('refresh authorization did not run');
  const access = await deps.accessTokens.issue({
    subject: rotated.record.subject,
    clientId: rotated.record.clientId,
    scopes: granted.scopes,
    roles: [granted.role],
    familyId: rotated.record.familyId,
    ttlSeconds: deps.accessTokenTtlSeconds,
  });
  return {
    accessToken: access.token,
    scopes: granted.scopes,
    refreshToken: rotated.token,
    record: {
      grantType: 'refresh_token',
      clientId: client.clientId,
      subject: rotated.record.subject,
      tokenId: access.jti,
      familyId: rotated.record.familyId,
    },
  };
}
