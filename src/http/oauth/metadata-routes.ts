/**
 * What a resource server elsewhere needs to verify certmaster's access tokens on its own: the
 * authorization server metadata (RFC 8414) and the keys (RFC 7517).
 */
import type { FastifyInstance } from 'fastify';
import { SCOPES } from '../../auth/scopes.js';
import type { SigningKeyRing } from '../../auth/tokens/keyring.js';

export function metadataRoutes(app: FastifyInstance, issuer: string, keyring: SigningKeyRing): void {
  const base = issuer.replace(/\/+$/, '');
  app.get(
    '/.well-known/oauth-authorization-server',
    { schema: { summary: 'Authorization server metadata (RFC 8414)', tags: ['oauth'] } },
    async (_request, reply) => {
      const authMethods = ['client_secret_basic', 'client_secret_post', 'none'];
      return reply.header('cache-control', 'public, max-age=300').send({
        issuer,
        token_endpoint: `${base}/oauth/token`,
        revocation_endpoint: `${base}/oauth/revoke`,
        introspection_endpoint: `${base}/oauth/introspect`,
        jwks_uri: `${base}/.well-known/jwks.json`,
        grant_types_supported: ['password', 'client_credentials', 'refresh_token'],
        // RFC 8414 §2 requires this member; certmaster has no authorization endpoint (no code or
        // implicit flow), so there is no response type to list.
        response_types_supported: [],
        token_endpoint_auth_methods_supported: authMethods,
        revocation_endpoint_auth_methods_supported: authMethods,
        // Bearer tokens with scope tokens:manage are accepted too; the registry has no name for that.
        introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
        scopes_supported: [...SCOPES],
      });
    },
  );

  app.get(
    '/.well-known/jwks.json',
    { schema: { summary: 'Keys that verify access tokens (RFC 7517)', tags: ['oauth'] } },
    async (_request, reply) =>
      reply
        .header('cache-control', 'public, max-age=60')
        .type('application/jwk-set+json')
        .send(JSON.stringify(keyring.jwks())),
  );
}
