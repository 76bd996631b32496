/**
 * What kind of token a string is, decided in one place. certmaster's opaque tokens carry a prefix
 * (`cmat_` API, `cmet_` enrollment, `cmrt_` refresh: token-secrets.ts); access tokens are signed
 * JWTs. The Bearer path of the Authenticator, introspection (RFC 7662) and revocation (RFC 7009) all
 * ask this registry for the handler of a token and call it; none tests a prefix itself.
 *
 * A token with no registered prefix and not in the JWT's compact shape is refused without a lookup.
 */

import type { Clock, Principal } from '../../types.js';
import type { AuthFailure } from '../failure.js';
import type { OAuthAccounts } from '../identity-queries.js';
import { type AccessTokens, notAnAccessToken } from './access-tokens.js';
import {
  INACTIVE,
  type IntrospectionAnswer,
  introspectAccessToken,
  introspectOpaqueToken,
  introspectRefreshToken,
} from './introspection.js';
import type { OpaqueTokens } from './opaque-tokens.js';
import type { RefreshTokens } from './refresh-tokens.js';
import {
  nothingRevoked,
  type RevocationOutcome,
  type RevokingCaller,
  revokeAccessToken,
  revokeOpaqueToken,
  revokeRefreshToken,
} from './revocation.js';
import { API_TOKEN_PREFIX, ENROLLMENT_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX } from './token-secrets.js';

/** What each kind of token does when presented as a bearer credential, inspected or revoked. */
export interface TokenHandler {
  /** The caller the token stands for (recording its use); AuthFailure (scheme bearer) otherwise. */
  verify(token: string): Promise<Principal>;
  /** RFC 7662: its claims when active, `{ active: false }` otherwise; never records a use. */
  introspect(token: string): Promise<IntrospectionAnswer>;
  /** RFC 7009: revokes it if the caller may; OAuthError unauthorized_client when it may not. */
  revoke(token: string, caller: RevokingCaller): Promise<RevocationOutcome>;
}

/** A registered prefix, or the shape of a JWS in compact serialisation (RFC 7515 §7.1). */
export type TokenShape = { prefix: string } | 'jwt';

/**
 * A JWS in compact form is three dot-separated parts; this is the first thing a JWT library checks
 * (jose refuses anything else as "Invalid Compact JWS"), so nothing a verifier could accept is lost.
 */
export function hasJwtShape(token: string): boolean {
  return token.split('.').length === 3;
}

export class TokenRegistry {
  private readonly prefixed: Array<{ prefix: string; handler: TokenHandler }> = [];
  private jwt: TokenHandler | null = null;

  register(shape: TokenShape, handler: TokenHandler): this {
    if (shape === 'jwt') {
      if (this.jwt !== null) throw new Error('a JWT handler is already registered');
      this.jwt = handler;
      return this;
    }
    if (shape.prefix === '') throw new Error('a token prefix cannot be empty');
    // No prefix may start another one, so at most one matches any token and order does not matter.
    const clash = this.prefixed.find(
      (p) => p.prefix.startsWith(shape.prefix) || shape.prefix.startsWith(p.prefix),
    );
    if (clash) throw new Error(`token prefix ${shape.prefix} overlaps ${clash.prefix}`);
    this.prefixed.push({ prefix: shape.prefix, handler });
    return this;
  }

  /** The handler for this token, or null when no registered kind has its prefix or shape. */
  handlerOf(token: string): TokenHandler | null {
    const prefixed = this.prefixed.find((p) => token.startsWith(p.prefix));
    if (prefixed) return prefixed.handler;
    return this.jwt !== null && hasJwtShape(token) ? this.jwt : null;
  }

  verify(token: string): Promise<Principal> {
    const handler = this.handlerOf(token);
    if (handler === null) return Promise.reject(unknownToken());
    return handler.verify(token);
  }

  introspect(token: string): Promise<IntrospectionAnswer> {
    return this.handlerOf(token)?.introspect(token) ?? Promise.resolve({ ...INACTIVE });
  }

  revoke(token: string, caller: RevokingCaller): Promise<RevocationOutcome> {
    return this.handlerOf(token)?.revoke(token, caller) ?? Promise.resolve(nothingRevoked(unknownToken()));
  }
}

function unknownToken(): AuthFailure {
  return notAnAccessToken('no certmaster token prefix, and not a JWS in compact form');
}

export interface CertmasterTokenDeps {
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  opaqueTokens: OpaqueTokens;
  store: Pick<OAuthAccounts, 'revokeToken' | 'revokeAccessToken'>;
  clock: Clock;
}

/** The registry of certmaster's four kinds of token. */
export function certmasterTokenRegistry(deps: CertmasterTokenDeps): TokenRegistry {
  const issuer = deps.accessTokens.issuer;
  const opaque: TokenHandler = {
    verify: (token) => deps.opaqueTokens.verify(token),
    introspect: (token) => introspectOpaqueToken(token, { opaqueTokens: deps.opaqueTokens, issuer }),
    revoke: (token) => revokeOpaqueToken(token, deps),
  };
  return new TokenRegistry()
    .register({ prefix: API_TOKEN_PREFIX }, opaque)
    .register({ prefix: ENROLLMENT_TOKEN_PREFIX }, opaque)
    .register(
      { prefix: REFRESH_TOKEN_PREFIX },
      {
        // A refresh token is only ever spent at the token endpoint, never sent as a credential.
        verify: () => Promise.reject(notAnAccessToken('a refresh token presented as a bearer token')),
        introspect: (token) => introspectRefreshToken(token, { ...deps, issuer }),
        revoke: (token, caller) => revokeRefreshToken(token, caller, deps),
      },
    )
    .register('jwt', {
      verify: (token) => deps.accessTokens.verify(token),
      introspect: (token) => introspectAccessToken(token, deps),
      revoke: (token, caller) => revokeAccessToken(token, caller, deps),
    });
}
