/**
 * POST /oauth/introspect (RFC 7662). Who may ask is decided in src/auth/oauth/introspection-caller.ts,
 * what is said of a token by the token registry (src/auth/tokens/token-registry.ts).
 */
import type { FastifyInstance } from 'fastify';
import { AuthFailure } from '../../auth/failure.js';
import { type IntrospectionCallerDeps, introspectionCaller } from '../../auth/oauth/introspection-caller.js';
import { OAuthError } from '../../auth/tokens/oauth-error.js';
import type { TokenRegistry } from '../../auth/tokens/token-registry.js';
import type { OAuthReplies } from './replies.js';
import {
  introspectionSchema,
  NO_STORE,
  OAUTH_BODY_LIMIT,
  oauthErrorSchema,
  type Params,
  paramsSchema,
} from './wire.js';

export function introspectRoute(
  app: FastifyInstance,
  replies: OAuthReplies,
  deps: IntrospectionCallerDeps & { tokens: Pick<TokenRegistry, 'introspect'> },
): void {
  app.post(
    '/oauth/introspect',
    {
      bodyLimit: OAUTH_BODY_LIMIT,
      schema: {
        summary: 'Introspect a token (RFC 7662); needs scope tokens:manage',
        tags: ['oauth'],
        body: paramsSchema,
        response: { 200: introspectionSchema, '4xx': oauthErrorSchema },
      },
    },
    async (request, reply) => {
      const params = (request.body ?? {}) as Params;
      let caller: string;
      try {
        caller = await introspectionCaller(request.headers.authorization, replies.callerOf(request), deps);
      } catch (error) {
        if (!(error instanceof AuthFailure)) throw error;
        return replies.refuseIntrospection(request, reply, error);
      }
      const token = params.token;
      if (token === undefined || token === '') {
        return replies.refuse(
          request,
          reply,
          'introspect',
          new OAuthError('invalid_request', 'token is missing', 'send the token to inspect as `token`', {
            code: 'oauth_request_malformed',
            problem: 'parameter_missing',
            parameter: 'token',
          }),
          { subject: caller },
        );
      }
      const answer = await deps.tokens.introspect(token);
      await replies.decide(request, {
        endpoint: 'introspect',
        outcome: 'granted',
        subject: caller,
        internalCause: answer.active
          ? `active ${answer.certmaster_token_kind} ${answer.jti}`
          : 'inactive token',
      });
      return reply.code(200).headers(NO_STORE).send(answer);
    },
  );
}
