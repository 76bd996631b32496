/** Authorization: whether a caller, once known, may do what a route needs. */
import type { Principal } from '../types.js';
import { AuthFailure } from './failure.js';
import { ROLE_SCOPES } from './scopes.js';

/** Every scope the principal's roles allow, whatever its token narrowed them to. */
export function roleScopes(principal: Principal): string[] {
  return principal.roles.flatMap((r) => ROLE_SCOPES[r] ?? []);
}

/**
 * A route's authorization check: anonymous callers must authenticate (401); a known caller
 * without the scope gets 403 (RFC 9110 §15.5.4): insufficient_scope when a token narrowed what
 * its owner may do, forbidden when the account's role itself does not allow it.
 */
export function authorize(principal: Principal, scope: string): void {
  requireSignedIn(principal);
  if (principal.scopes.includes(scope)) return;
  const tokenBound =
    principal.method === 'access_token' ||
    principal.method === 'api_token' ||
    principal.method === 'enrollment_token';
  if (tokenBound && roleScopes(principal).includes(scope)) {
    throw new AuthFailure(
      'insufficient_scope',
      `the token does not carry the scope "${scope}"`,
      `get a token with that scope: \`certmaster token create --scope ${scope}\`, or log in again with it`,
      { code: 'scope_missing', owner: principal.name, scope, has: [...principal.scopes] },
      { scheme: 'bearer', scope },
    );
  }
  throw new AuthFailure(
    'forbidden',
    `${principal.name} (${principal.roles.join(', ') || 'no role'}) may not do this; it needs "${scope}"`,
    'ask an administrator for an account whose role allows it',
    { code: 'role_lacks_scope', account: principal.name, scope },
    { scope },
  );
}

/** A route any known caller may use: only an anonymous one is refused (401 credentials_missing). */
export function requireSignedIn(principal: Principal): void {
  if (principal.anonymous) {
    throw new AuthFailure(
      'credentials_missing',
      'this needs credentials and none were sent',
      'log in with `certmaster login --server URL`, or send a token: `Authorization: Bearer TOKEN`',
      { code: 'credentials_absent', route: 'api' },
    );
  }
}
