/**
 * Who may ask the introspection endpoint (RFC 7662 §2.1 requires the caller to authenticate): a
 * bearer access or API token with scope tokens:manage, or a confidential client (client_secret_basic)
 * whose scopes include it. Refusals are AuthFailures, so the front end can answer with challenges.
 */
import type { Principal } from '../../types.js';
import { AuthFailure } from '../failure.js';
import { schemeDisabled } from '../scheme-policy.js';
import { isMalformed, parseAuthorization } from '../schemes/authorization.js';
import { presentedClient } from '../tokens/client-credentials.js';
import { OAuthError } from '../tokens/oauth-error.js';
import type { OAuthCaller } from './caller.js';
import {
  authenticateCallingClient,
  type CallingClient,
  type ClientAuthenticationDeps,
} from './client-authentication.js';
import { bearerMayIntrospect, clientMayIntrospect, INTROSPECTION_SCOPE } from './scope-decisions.js';

export interface IntrospectionCallerDeps extends ClientAuthenticationDeps {
  /** The caller a bearer token stands for; AuthFailure (scheme bearer) otherwise. */
  verifyBearer(token: string): Promise<Principal>;
}

/** The name of the authenticated caller allowed to introspect; AuthFailure otherwise. */
export async function introspectionCaller(
  header: string | undefined,
  caller: OAuthCaller,
  deps: IntrospectionCallerDeps,
): Promise<string> {
  if (header === undefined || header.trim() === '') {
    throw new AuthFailure(
      'credentials_missing',
      'introspection needs credentials',
      'send `Authorization: Bearer TOKEN` with a token that has scope tokens:manage, or client credentials',
      { code: 'credentials_absent', route: 'introspection' },
    );
  }
  // The API's parser (RFC 9110 §11.6.2); a Bearer header that is not one token68 carries no token.
  const parsed = parseAuthorization(header);
  const scheme = parsed.scheme;
  if (scheme === 'bearer') {
    const token = isMalformed(parsed) ? '' : (parsed.token68 ?? '');
    const principal = await deps.verifyBearer(token);
    if (!bearerMayIntrospect(principal.scopes))
      throw insufficientScope(principal.name, 'bearer', principal.scopes);
    return principal.name;
  }
  if (scheme === 'basic') {
    let client: CallingClient;
    try {
      client = await authenticateCallingClient(presentedClient(header, {}), caller, deps);
    } catch (error) {
      if (!(error instanceof OAuthError)) throw error;
      throw new AuthFailure(
        error.reason ?? (error.error === 'slow_down' ? 'too_many_attempts' : 'credentials_invalid'),
        error.description,
        error.hint,
        error.facts,
        {
          scheme: 'basic',
          ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
        },
      );
    }
    if (!clientMayIntrospect(client.record))
      throw insufficientScope(client.clientId, 'basic', client.record?.scopes ?? []);
    return client.clientId;
  }
  throw new AuthFailure(
    'scheme_unsupported',
    'introspection takes Bearer tokens or Basic client credentials',
    'send a Bearer token that carries tokens:manage, or the Basic credentials (client id and secret) of a client allowed to introspect',
    schemeDisabled(scheme ?? '', ['Bearer', 'Basic']),
  );
}

function insufficientScope(name: string, scheme: 'bearer' | 'basic', has: readonly string[]): AuthFailure {
  return new AuthFailure(
    'insufficient_scope',
    'introspection needs scope tokens:manage',
    'use a token or client that has scope tokens:manage (an admin can create one with `certmaster token create --scope tokens:manage`)',
    { code: 'scope_missing', owner: name, scope: INTROSPECTION_SCOPE, has: [...has] },
    { scheme, scope: INTROSPECTION_SCOPE, claimedName: name },
  );
}
