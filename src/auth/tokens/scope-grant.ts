/** Which scopes a token request gets (RFC 6749 §3.3). */
import { isScope, SCOPES } from '../scopes.js';
import { OAuthError } from './oauth-error.js';

/**
 * All of `allowed` when none are asked for (§3.3 lets the server pick a default), else exactly
 * those asked for, each of which must be allowed; in the canonical order of SCOPES.
 * Throws OAuthError invalid_scope.
 */
export function grantedScopes(requested: string | undefined, allowed: readonly string[]): string[] {
  if (requested === undefined || requested.trim() === '')
    return SCOPES.filter((scope) => allowed.includes(scope));
  // §3.3: scope tokens are separated by spaces; runs of spaces are forgiven.
  const asked = new Set(requested.split(' ').filter((scope) => scope !== ''));
  if (asked.size > SCOPES.length) {
    throw new OAuthError('invalid_scope', 'too many scopes requested', 'ask for known scopes only', {
      code: 'scope_refused',
      problem: 'too_many',
    });
  }
  for (const scope of asked) {
    if (!isScope(scope)) {
      const shown = scope.slice(0, 64).replace(/[^\x21-\x7e]/g, '?');
      throw new OAuthError('invalid_scope', `unknown scope "${shown}"`, `known scopes: ${SCOPES.join(' ')}`, {
        code: 'scope_refused',
        problem: 'unknown',
        scope: shown,
      });
    }
    if (!allowed.includes(scope)) {
      throw new OAuthError(
        'invalid_scope',
        `scope ${scope} is not granted to this account or client`,
        `ask for a subset of: ${allowed.join(' ') || '(none)'}`,
        { code: 'scope_refused', problem: 'not_granted', scope, allowed: [...allowed] },
      );
    }
  }
  return SCOPES.filter((scope) => asked.has(scope));
}
