/**
 * RFC 7009 revocation of any certmaster token. Token type hints are only hints (§2.1): the
 * prefixes say what a token is. Unknown, expired or forged tokens are not an error (§2.2).
 *
 * Who may revoke what: any holder may revoke an API or enrollment token (they belong to no OAuth
 * client, and revoking a leaked one is always welcome). Refresh and access tokens only by the
 * client they were issued to (§2.1): for the public client certmaster-cli, presenting the token is
 * all the proof there is; a confidential client has authenticated before this is called.
 */
import type { AuthStore } from '../../store/identities/auth-store.js';
import type { Clock } from '../../types.js';
import { AuthFailure } from '../failure.js';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.js';
import { OAuthError } from './oauth-error.js';
import type { OpaqueTokens } from './opaque-tokens.js';
import type { RefreshTokens } from './refresh-tokens.js';
import { API_TOKEN_PREFIX, ENROLLMENT_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX } from './token-secrets.js';

export interface RevocationDeps {
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  opaqueTokens: OpaqueTokens;
  store: Pick<AuthStore, 'revokeToken' | 'revokeAccessToken'>;
  clock: Clock;
  firstPartyClientId: string;
}

/** What was revoked, for the audit log; `cause` says what happened even when nothing was. */
export interface RevocationOutcome {
  subject?: string;
  tokenId?: string;
  familyId?: string;
  cause: string;
}

/** Throws OAuthError unauthorized_client when the token belongs to another client. */
export async function revokeToken(
  token: string,
  callerClientId: string,
  deps: RevocationDeps,
): Promise<RevocationOutcome> {
  const now = deps.clock.now();
  if (token.startsWith(REFRESH_TOKEN_PREFIX)) {
    const record = await deps.refreshTokens.find(token);
    if (record === null) return { cause: 'unknown refresh token' };
    checkOwnClient(record.clientId, callerClientId, `refresh token ${record.id}`, deps.firstPartyClientId);
    // Revoking a refresh token ends its sign-in: the family and the access tokens carrying it.
    const count = await deps.refreshTokens.revokeFamily(record.familyId);
    return {
      subject: record.subject,
      tokenId: record.id,
      familyId: record.familyId,
      cause: `refresh family revoked (${count} tokens)`,
    };
  }
  if (token.startsWith(API_TOKEN_PREFIX) || token.startsWith(ENROLLMENT_TOKEN_PREFIX)) {
    const record = await deps.opaqueTokens.find(token);
    if (record === null) return { cause: 'unknown API or enrollment token' };
    if (record.revokedAt === null) await deps.store.revokeToken(record.id, now);
    return { subject: record.owner, tokenId: record.id, cause: `${record.kind} token revoked` };
  }
  let claims: AccessTokenClaims;
  try {
    // The signature is checked first: nobody denylists jtis of tokens we never issued.
    claims = await deps.accessTokens.verifySignedClaims(token);
  } catch (error) {
    if (!(error instanceof AuthFailure)) throw error;
    return { cause: `nothing revoked: ${error.reason}: ${error.internalCause}` };
  }
  checkOwnClient(claims.client_id, callerClientId, `access token ${claims.jti}`, deps.firstPartyClientId);
  await deps.store.revokeAccessToken(claims.jti, new Date(claims.exp * 1000), now);
  return { subject: claims.sub, tokenId: claims.jti, cause: 'access token denylisted until it expires' };
}

function checkOwnClient(issuedTo: string, caller: string, what: string, firstParty: string): void {
  if (issuedTo === caller) return;
  throw new OAuthError(
    'unauthorized_client',
    'this token was not issued to this client',
    issuedTo === firstParty
      ? `revoke it as ${firstParty} (client_id=${firstParty}, no secret)`
      : 'the client the token was issued to must revoke it, authenticating with its secret',
    `${what} belongs to client ${issuedTo}, revocation asked by ${caller}`,
  );
}
