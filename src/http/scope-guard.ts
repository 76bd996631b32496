/** Route-level authorization: every protected route names the scope it needs. */
import type { preHandlerAsyncHookHandler } from 'fastify';
import { authorize } from '../auth/authorize.js';
import type { Scope } from '../auth/scopes.js';

export function requireScope(scope: Scope): preHandlerAsyncHookHandler {
  return async (request) => {
    authorize(request.principal, scope);
  };
}
