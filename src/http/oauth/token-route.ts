/** POST /oauth/token (RFC 6749): who the client is, then the grant it asks for (src/auth/oauth/grants.ts). */
import type { FastifyInstance } from 'fastify';
import {
  authenticateCallingClient,
  type CallingClient,
  type ClientAuthenticationDeps,
} from '../../auth/oauth/client-authentication.js';
import { type GrantDeps, grantTokens } from '../../auth/oauth/grants.js';
import { presentedClient } from '../../auth/tokens/client-credentials.js';
import { OAuthError } from '../../auth/tokens/oauth-error.js';
import type { OAuthReplies } from './replies.js';
import {
  OAUTH_BODY_LIMIT,
  oauthErrorSchema,
  type Params,
  paramsSchema,
  tokenResponseSchema,
} from './wire.js';

export function tokenRoute(
  app: FastifyInstance,
  replies: OAuthReplies,
  deps: GrantDeps & ClientAuthenticationDeps,
): void {
  app.post(
    '/oauth/token',
    {
      bodyLimit: OAUTH_BODY_LIMIT,
      schema: {
        summary: 'Obtain an access token (RFC 6749): password, client_credentials or refresh_token grant',
        tags: ['oauth'],
        body: paramsSchema,
        response: { 200: tokenResponseSchema, '4xx': oauthErrorSchema },
      },
    },
    async (request, reply) => {
      const params = (request.body ?? {}) as Params;
      const grantType = params.grant_type;
      const caller = replies.callerOf(request);
      let client: CallingClient | undefined;
      try {
        client = await authenticateCallingClient(
          presentedClient(request.headers.authorization, params),
          caller,
          deps,
        );
        const grant = await grantTokens(grantType, params, client, caller, deps);
        return await replies.sendGrant(request, reply, grant);
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        return replies.refuse(request, reply, 'token', error, {
          ...(grantType !== undefined ? { grantType: grantType.slice(0, 64) } : {}),
          ...(client ? { clientId: client.clientId } : {}),
        });
      }
    },
  );
}
