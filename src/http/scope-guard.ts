/** Route-level authorization: every protected route names the scope it needs. */
import type { preHandlerHookHandler } from 'fastify';
import { authorize } from '../auth/authorize.js';
import type { Scope } from '../auth/scopes.js';

/**
 * A callback hook, not an async one: a refusal thrown from an async function is a promise rejected
 * before Fastify attaches its handler, which Node books as a possibly unhandled rejection every time
 * (measured on the 401 path, issue 11). Fastify catches what a callback hook throws and answers it
 * through the error handler just the same.
 */
export function requireScope(scope: Scope): preHandlerHookHandler {
  return (request, _reply, done) => {
    authorize(request.principal, scope);
    done();
  };
}
