/**
 * Errors raised before or outside a route's own handling: a body that does not parse or is too
 * large is an OAuth invalid_request; anything else a recorded 500. Either way the audit log has it.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { OAuthError } from '../../auth/tokens/oauth-error.js';
import type { Endpoint, OAuthReplies } from './replies.js';
import { FORM, NO_STORE, OAUTH_BODY_LIMIT } from './wire.js';

/** The endpoint a request was for, for the audit record of a refusal raised before its handler. */
function endpointOf(request: FastifyRequest): Endpoint {
  return request.url.startsWith('/oauth/revoke')
    ? 'revoke'
    : request.url.startsWith('/oauth/introspect')
      ? 'introspect'
      : 'token';
}

export function setOAuthErrorHandler(app: FastifyInstance, replies: OAuthReplies): void {
  app.setErrorHandler(async (error, request, reply) => {
    if ((error as Error).name === 'AuditUnavailableError') return replies.auditOutage(request, reply, error);
    const err = error as { code?: string; statusCode?: number; validation?: unknown; message: string };
    let refusal: OAuthError | null = null;
    let status: number | undefined;
    if (error instanceof OAuthError) refusal = error;
    else if (
      err.validation ||
      (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500)
    ) {
      const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
      refusal = new OAuthError(
        'invalid_request',
        tooLarge
          ? `the body exceeds ${OAUTH_BODY_LIMIT} bytes`
          : `the request does not parse: ${err.message}`,
        `send ${FORM} (or JSON) parameters as RFC 6749 describes`,
        {
          code: 'oauth_request_malformed',
          problem: 'body_unparsable',
          why: `${err.code ?? 'validation'}: ${err.message}`,
        },
      );
      status = tooLarge ? 413 : 400;
    }
    if (refusal !== null) {
      try {
        await replies.recordRefusal(request, endpointOf(request), refusal, {}, status);
      } catch (e) {
        return replies.auditOutage(request, reply, e);
      }
      return replies.sendOAuthError(request, reply, refusal, status);
    }
    request.log.error({ err: error }, 'oauth endpoint failed');
    try {
      await replies.decide(request, {
        endpoint: endpointOf(request),
        outcome: 'refused',
        error: 'server_error',
        status: 500,
        reason: 'internal_error',
        internalCause: `unhandled ${(error as Error).name ?? 'error'} (the server log has it under this request id)`,
        description: 'the server failed to handle this request',
        hint: `report request id ${request.id} to the operator`,
      });
    } catch (e) {
      return replies.auditOutage(request, reply, e);
    }
    return reply
      .code(500)
      .headers(NO_STORE)
      .send({
        error: 'server_error',
        error_description: 'the server failed to handle this request',
        hint: `report request id ${request.id} to the operator`,
        request_id: request.id,
      });
  });
}
