/**
 * Which scopes an OAuth grant hands out, and who may introspect: always what the request asks for
 * (RFC 6749 §3.3), capped by what the credential was given and what its role allows today.
 */

import type { Role } from '../../types.js';
import type { OAuthClientRecord, RefreshTokenRecord } from '../identity-queries.js';
import { ROLE_SCOPES } from '../scopes.js';
import { grantedScopes } from '../tokens/scope-grant.js';

/** The scope introspection needs (RFC 7662 §2.1 leaves who may ask to the server). */
export const INTROSPECTION_SCOPE = 'tokens:manage';

/** A person signing in gets what their role allows, or the part of it they ask for. */
export function passwordGrantScopes(requested: string | undefined, role: Role): string[] {
  return grantedScopes(requested, ROLE_SCOPES[role]);
}

/** A service account gets its own scopes, as far as its role still allows them. */
export function clientCredentialsScopes(requested: string | undefined, client: OAuthClientRecord): string[] {
  const allowed: readonly string[] = ROLE_SCOPES[client.role];
  return grantedScopes(
    requested,
    client.scopes.filter((scope) => allowed.includes(scope)),
  );
}

/**
 * §6: a refresh may narrow the scope, never widen it; and the account's role may have shrunk since
 * sign-in, so the new access token gets what the token and the role both allow.
 */
export function refreshScopes(
  requested: string | undefined,
  record: RefreshTokenRecord,
  role: Role,
): string[] {
  const scopes = grantedScopes(requested, record.scopes);
  const allowed: readonly string[] = ROLE_SCOPES[role];
  return scopes.filter((scope) => allowed.includes(scope));
}

/** A bearer caller may introspect when its token carries the scope. */
export function bearerMayIntrospect(scopes: readonly string[]): boolean {
  return scopes.includes(INTROSPECTION_SCOPE);
}

/** A confidential client may introspect when it was given the scope and its role still allows it. */
export function clientMayIntrospect(client: OAuthClientRecord | null): boolean {
  if (client === null) return false;
  const allowed: readonly string[] = ROLE_SCOPES[client.role];
  return client.scopes.includes(INTROSPECTION_SCOPE) && allowed.includes(INTROSPECTION_SCOPE);
}
