/**
 * What RFC 7662 introspection says about a token: its claims when it is active, and only
 * `{ active: false }` otherwise (§2.2), never why. Looking does not count as using: an enrollment
 * token keeps its uses and an API token its last-used time. Which of these a token is, the token
 * registry (token-registry.ts) decides.
 */
import type { Clock } from '../../types.js';
import { AuthFailure } from '../failure.js';
import type { AccessTokenClaims, AccessTokens } from './access-tokens.js';
import type { OpaqueTokens } from './opaque-tokens.js';
import type { RefreshTokens } from './refresh-tokens.js';

export type TokenKind = 'access_token' | 'refresh_token' | 'api_token' | 'enrollment_token';

export type IntrospectionAnswer =
  | { active: false }
  | {
      active: true;
      scope: string;
      client_id?: string;
      /** The account the token acts for; absent when there is none (client_credentials, enrollment). */
      username?: string;
      token_type: 'Bearer' | 'refresh_token';
      exp?: number;
      iat: number;
      nbf?: number;
      sub: string;
      aud?: string;
      iss: string;
      jti: string;
      /** certmaster's own member: which of its four kinds of token this is. */
      certmaster_token_kind: TokenKind;
    };

export const INACTIVE: IntrospectionAnswer = Object.freeze({ active: false as const });

/** A refresh token: active while its family stands and it has been neither used nor expired. */
export async function introspectRefreshToken(
  token: string,
  deps: { refreshTokens: RefreshTokens; clock: Clock; issuer: string },
): Promise<IntrospectionAnswer> {
  const record = await deps.refreshTokens.find(token);
  if (record === null || !deps.refreshTokens.isActive(record, deps.clock.now())) return { ...INACTIVE };
  return {
    active: true,
    scope: record.scopes.join(' '),
    client_id: record.clientId,
    username: record.subject,
    token_type: 'refresh_token',
    exp: seconds(deps.refreshTokens.expiryOf(record)),
    iat: seconds(record.issuedAt),
    sub: record.subject,
    iss: deps.issuer,
    jti: record.id,
    certmaster_token_kind: 'refresh_token',
  };
}

/** An API or enrollment token: active when it would authenticate now. */
export async function introspectOpaqueToken(
  token: string,
  deps: { opaqueTokens: OpaqueTokens; issuer: string },
): Promise<IntrospectionAnswer> {
  let inspected: Awaited<ReturnType<OpaqueTokens['inspect']>>;
  try {
    inspected = await deps.opaqueTokens.inspect(token);
  } catch (error) {
    if (error instanceof AuthFailure) return { ...INACTIVE };
    throw error;
  }
  const { record, principal } = inspected;
  return {
    active: true,
    scope: principal.scopes.join(' '),
    ...(record.kind === 'api' ? { username: record.owner } : {}),
    token_type: 'Bearer',
    ...(record.expiresAt !== null ? { exp: seconds(record.expiresAt) } : {}),
    iat: seconds(record.createdAt),
    sub: principal.name,
    iss: deps.issuer,
    jti: record.id,
    certmaster_token_kind: record.kind === 'api' ? 'api_token' : 'enrollment_token',
  };
}

/** A signed access token: active when it verifies and is not revoked. */
export async function introspectAccessToken(
  token: string,
  deps: { accessTokens: AccessTokens },
): Promise<IntrospectionAnswer> {
  let claims: AccessTokenClaims;
  try {
    claims = await deps.accessTokens.check(token);
  } catch (error) {
    if (error instanceof AuthFailure) return { ...INACTIVE };
    throw error;
  }
  // A client_credentials token has no resource owner, hence no username (RFC 9068 §2.2).
  const ownGrant = claims.sid === null && claims.sub === claims.client_id;
  return {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    ...(ownGrant ? {} : { username: claims.sub }),
    token_type: 'Bearer',
    exp: claims.exp,
    iat: claims.iat,
    ...(claims.nbf !== undefined ? { nbf: claims.nbf } : {}),
    sub: claims.sub,
    aud: claims.aud,
    iss: claims.iss,
    jti: claims.jti,
    certmaster_token_kind: 'access_token',
  };
}

function seconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
