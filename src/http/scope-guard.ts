/** Route-level authorization: every protected route names the scope it needs. */
import type { preHandlerAsyncHookHandler } from 'fastify';
import { authorize } from '../auth/authorize.js';
import { ROLE_SCOPES, type Scope } from '../auth/scopes.js';
import type { Principal } from '../types.js';

export function roleScopes(principal: Principal): string[] {
  return principal.roles.flatMap((r) => ROLE_SCOPES[r] ?? []);
}

export function requireScope(scope: Scope): preHandlerAsyncHookHandler {
  return async (request) => {
    authorize(request.principal, scope, roleScopes);
  };
}
