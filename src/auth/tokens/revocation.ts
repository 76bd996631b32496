/**
 * RFC 7009 revocation of any certmaster token. Token type hints are only hints (§2.1): the
 * prefixes say what a token is. Unknown, expired or forged tokens are not an error (§2.2).
 *
 * Who may revoke what: any holder may revoke an API or enrollment token (they belong to no OAuth
 * client, and revoking a leaked one is always welcome). Refresh and access tokens only by the
 * client they were issued to (§2.1): for the public client certmaster-cli, presenting the token is
 * all the proof there is; a confidential client has authenticated before this is called. Which of
 * these a token is, the token registry (token-registry.ts) decides.
 */

import type { Clock } from '../../types.js';
import { AuthFailure } from '../failure.js';
import type { OAuthAccounts } from '../identity-queries.js';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.js';
import { OAuthError } from './oauth-error.js';
import type { OpaqueTokens } from './opaque-tokens.js';
import type { RefreshTokens } from './refresh-tokens.js';

/** Who asks for a revocation: the client, authenticated (or, for the public client, named). */
export interface RevokingCaller {
  clientId: string;
  /** The public client, for the hint that tells how to revoke one of its tokens. */
  firstPartyClientId: string;
}

/** What was revoked, for the audit log; `cause` says what happened even when nothing was. */
export interface RevocationOutcome {
  subject?: string;
  tokenId?: string;
  familyId?: string;
  cause: string;
}

/** Revoking a refresh token ends its sign-in: the family and the access tokens carrying it. */
export async function revokeRefreshToken(
  token: string,
  caller: RevokingCaller,
  deps: { refreshTokens: RefreshTokens },
): Promise<RevocationOutcome> {
  const record = await deps.refreshTokens.find(token);
  if (record === null) return { cause: 'unknown refresh token' };
  checkOwnClient(record.clientId, caller, `refresh token ${record.id}`);
  const count = await deps.refreshTokens.revokeFamily(record.familyId);
  return {
    subject: record.subject,
    tokenId: record.id,
    familyId: record.familyId,
    cause: `refresh family revoked (${count} tokens)`,
  };
}

/** Any holder may revoke an API or enrollment token. */
export async function revokeOpaqueToken(
  token: string,
  deps: { opaqueTokens: OpaqueTokens; store: Pick<OAuthAccounts, 'revokeToken'>; clock: Clock },
): Promise<RevocationOutcome> {
  const record = await deps.opaqueTokens.find(token);
  if (record === null) return { cause: 'unknown API or enrollment token' };
  if (record.revokedAt === null) await deps.store.revokeToken(record.id, deps.clock.now());
  return { subject: record.owner, tokenId: record.id, cause: `${record.kind} token revoked` };
}

/** An access token's jti is denylisted until it expires. */
export async function revokeAccessToken(
  token: string,
  caller: RevokingCaller,
  deps: { accessTokens: AccessTokens; store: Pick<OAuthAccounts, 'revokeAccessToken'>; clock: Clock },
): Promise<RevocationOutcome> {
  const now = deps.clock.now();
  let claims: AccessTokenClaims;
  try {
    // The signature is checked first: nobody denylists jtis of tokens we never issued.
    claims = await deps.accessTokens.verifySignedClaims(token);
  } catch (error) {
    if (!(error instanceof AuthFailure)) throw error;
    return nothingRevoked(error);
  }
  checkOwnClient(claims.client_id, caller, `access token ${claims.jti}`);
  await deps.store.revokeAccessToken(claims.jti, new Date(claims.exp * 1000), now);
  return { subject: claims.sub, tokenId: claims.jti, cause: 'access token denylisted until it expires' };
}

/** §2.2: a token that is no token of ours is not an error; the audit log keeps why nothing happened. */
export function nothingRevoked(failure: AuthFailure): RevocationOutcome {
  return { cause: `nothing revoked: ${failure.reason}: ${failure.internalCause}` };
}

function checkOwnClient(issuedTo: string, caller: RevokingCaller, what: string): void {
  if (issuedTo === caller.clientId) return;
  const firstParty = caller.firstPartyClientId;
  throw new OAuthError(
    'unauthorized_client',
    'this token was not issued to this client',
    issuedTo === firstParty
      ? `revoke it as ${firstParty} (client_id=${firstParty}, no secret)`
      : 'the client the token was issued to must revoke it, authenticating with its secret',
    { code: 'token_of_other_client', token: what, issuedTo, caller: caller.clientId },
  );
}
