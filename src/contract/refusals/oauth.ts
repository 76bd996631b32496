/** The OAuth 2 token endpoint's refusals (RFC 6749 §5.2). Assembled, in this order, by ../refusals.ts. */
import type { RefusalEntry } from '../refusal-entry.js';

export const OAUTH_REFUSALS = {
  // -- OAuth 2 token endpoint (RFC 6749 §5.2) ----------------------------------------------------
  invalid_client: {
    status: 401,
    title: 'The client is not known or its secret is wrong',
    meaning: 'The OAuth client could not be authenticated (RFC 6749 §5.2).',
    oauthError: 'invalid_client',
    layer: 'oauth',
    remedy: 'Check the client id and secret; `certmaster client add` creates a client.',
  },
  invalid_grant: {
    status: 400,
    title: 'The grant is not valid',
    meaning: 'The authorization grant or refresh token is not valid, expired, revoked or already used.',
    oauthError: 'invalid_grant',
    layer: 'oauth',
    remedy: 'Sign in again: `certmaster login`.',
  },
  unauthorized_client: {
    status: 400,
    title: 'The client may not use this grant',
    meaning: 'The OAuth client is not allowed to use this grant type.',
    oauthError: 'unauthorized_client',
    layer: 'oauth',
    remedy: 'Use a grant the client is allowed (password for the CLI, client_credentials for services).',
  },
  unsupported_grant_type: {
    status: 400,
    title: 'The grant type is not supported',
    meaning: 'The token endpoint does not support the grant type asked for.',
    oauthError: 'unsupported_grant_type',
    layer: 'oauth',
    remedy:
      'Use password, client_credentials or refresh_token (see /.well-known/oauth-authorization-server).',
  },
  invalid_scope: {
    status: 400,
    title: 'The scope is not valid',
    meaning: 'The scope asked for is unknown or beyond what the account or client may have.',
    oauthError: 'invalid_scope',
    layer: 'oauth',
    remedy: 'Ask only for scopes the role allows.',
  },
} as const satisfies Record<string, RefusalEntry>;
