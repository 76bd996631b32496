/**
 * The OAuth 2 authorization server: /oauth/token (RFC 6749), /oauth/revoke (RFC 7009),
 * /oauth/introspect (RFC 7662), and the metadata (RFC 8414) and JWKS (RFC 7517) a resource server
 * elsewhere needs to verify certmaster's access tokens on its own.
 *
 * This plugin only wires the routes of src/http/oauth/ together. What is decided lives in the auth
 * layer: the grants, client authentication and scope decisions in src/auth/oauth/, the tokens in
 * src/auth/tokens/.
 */
import type { FastifyPluginAsync } from 'fastify';
import { certmasterTokenRegistry } from '../auth/tokens/token-registry.js';
import { setOAuthErrorHandler } from './oauth/error-handler.js';
import { introspectRoute } from './oauth/introspect-route.js';
import { metadataRoutes } from './oauth/metadata-routes.js';
import type { OAuthPluginOptions } from './oauth/options.js';
import { OAuthReplies } from './oauth/replies.js';
import { revokeRoute } from './oauth/revoke-route.js';
import { tokenRoute } from './oauth/token-route.js';
import { registerFormParser } from './oauth/wire.js';

export type { OAuthDecision, OAuthPluginOptions } from './oauth/options.js';

export const oauthPlugin: FastifyPluginAsync<OAuthPluginOptions> = async (app, opts) => {
  // RFC 8414 §3.3: the metadata's issuer is the issuer identifier exactly, the `iss` of every token.
  if (opts.issuer !== opts.accessTokens.issuer) {
    throw new Error(
      `the OAuth issuer ${opts.issuer} differs from the access tokens' issuer ${opts.accessTokens.issuer}`,
    );
  }
  registerFormParser(app);
  const replies = new OAuthReplies({
    realm: opts.realm ?? 'certmaster',
    clock: opts.clock,
    accessTokenTtlSeconds: opts.accessTokenTtlSeconds,
    plainHttp: opts.plainHttp === true,
    ...(opts.outage ? { outage: opts.outage } : {}),
    ...(opts.onDecision ? { onDecision: opts.onDecision } : {}),
  });
  setOAuthErrorHandler(app, replies);
  const tokens = opts.tokens ?? certmasterTokenRegistry(opts);
  tokenRoute(app, replies, opts);
  revokeRoute(app, replies, { ...opts, tokens });
  introspectRoute(app, replies, { ...opts, tokens, verifyBearer: (token) => tokens.verify(token) });
  metadataRoutes(app, opts.issuer, opts.keyring);
};
