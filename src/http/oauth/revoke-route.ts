/**
 * POST /oauth/revoke (RFC 7009); the token registry finds the token's kind, and who may revoke what
 * is in src/auth/tokens/revocation.ts.
 */
import type { FastifyInstance } from 'fastify';
import {
  type CallingClient,
  type ClientAuthenticationDeps,
  revokingClient,
} from '../../auth/oauth/client-authentication.js';
import { required } from '../../auth/oauth/failures.js';
import { presentedClient } from '../../auth/tokens/client-credentials.js';
import { OAuthError } from '../../auth/tokens/oauth-error.js';
import type { TokenRegistry } from '../../auth/tokens/token-registry.js';
import type { OAuthReplies } from './replies.js';
import { NO_STORE, OAUTH_BODY_LIMIT, oauthErrorSchema, type Params, paramsSchema } from './wire.js';

export function revokeRoute(
  app: FastifyInstance,
  replies: OAuthReplies,
  deps: ClientAuthenticationDeps & { tokens: Pick<TokenRegistry, 'revoke'> },
): void {
  app.post(
    '/oauth/revoke',
    {
      bodyLimit: OAUTH_BODY_LIMIT,
      schema: {
        summary: 'Revoke a refresh, access, API or enrollment token (RFC 7009)',
        tags: ['oauth'],
        body: paramsSchema,
        response: { '4xx': oauthErrorSchema },
      },
    },
    async (request, reply) => {
      const params = (request.body ?? {}) as Params;
      let client: CallingClient | undefined;
      try {
        const presented = presentedClient(request.headers.authorization, params);
        client = await revokingClient(presented, replies.callerOf(request), deps);
        const token = required(params, 'token');
        const { cause, ...revoked } = await deps.tokens.revoke(token, {
          clientId: client.clientId,
          firstPartyClientId: deps.firstPartyClientId,
        });
        await replies.decide(request, {
          endpoint: 'revoke',
          outcome: 'granted',
          clientId: client.clientId,
          ...revoked,
          internalCause: cause,
        });
        return reply.code(200).headers(NO_STORE).send();
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        return replies.refuse(request, reply, 'revoke', error, client ? { clientId: client.clientId } : {});
      }
    },
  );
}
