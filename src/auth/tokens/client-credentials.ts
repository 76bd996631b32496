/**
 * How an OAuth client identified itself at the token, revocation or introspection endpoint
 * (RFC 6749 §2.3): client_secret_basic (the Authorization header), client_secret_post (the body),
 * or none (a public client that only names itself with client_id, §3.2.1).
 */
import { isMalformed, parseAuthorization } from '../schemes/authorization.js';
import { OAuthError } from './oauth-error.js';

export type PresentedClient =
  | { method: 'none'; clientId: string | null }
  | { method: 'client_secret_basic' | 'client_secret_post'; clientId: string; secret: string };

const MAX_CLIENT_ID_CHARS = 128;
const MAX_SECRET_CHARS = 1024;
const MAX_BASIC_CHARS = 4 * 1024;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

const CLIENT_HINT =
  'authenticate with `Authorization: Basic base64(urlencode(client_id):urlencode(client_secret))`, or send client_id and client_secret in the body';

/**
 * Reads the client's credentials; throws OAuthError for credentials that do not parse (invalid_client)
 * or that mix methods (invalid_request: §2.3 allows one method per request).
 */
export function presentedClient(
  authorization: string | undefined,
  params: Readonly<Record<string, string | undefined>>,
): PresentedClient {
  const bodyId = params.client_id;
  const bodySecret = params.client_secret;
  if (authorization !== undefined && authorization.trim() !== '') {
    const basic = parseClientBasic(authorization);
    if (bodySecret !== undefined) {
      throw new OAuthError(
        'invalid_request',
        'the client sent credentials both in the Authorization header and in the body',
        'use one client authentication method per request (RFC 6749 §2.3)',
        { code: 'oauth_request_malformed', problem: 'credentials_twice' },
      );
    }
    if (bodyId !== undefined && bodyId !== basic.clientId) {
      throw new OAuthError(
        'invalid_request',
        'client_id in the body differs from the client in the Authorization header',
        'send the same client_id, or leave it out of the body',
        { code: 'oauth_request_malformed', problem: 'client_id_mismatch', parameter: 'client_id' },
      );
    }
    return { method: 'client_secret_basic', ...basic };
  }
  if (bodyId !== undefined) checkLength('client_id', bodyId, MAX_CLIENT_ID_CHARS);
  if (bodySecret !== undefined) {
    if (bodyId === undefined) {
      throw new OAuthError(
        'invalid_request',
        'client_secret was sent without client_id',
        'send client_id together with client_secret',
        { code: 'oauth_request_malformed', problem: 'secret_without_client_id', parameter: 'client_id' },
      );
    }
    checkLength('client_secret', bodySecret, MAX_SECRET_CHARS);
    return { method: 'client_secret_post', clientId: bodyId, secret: bodySecret };
  }
  return { method: 'none', clientId: bodyId ?? null };
}

/**
 * The header is parsed by the API's own parser (RFC 9110 §11.6.2); what differs is the credentials:
 * RFC 6749 §2.3.1 has the client id and secret form-urlencoded before they are joined with ":" and
 * base64-encoded, so either may contain ":" or non-ASCII characters, unlike a Basic user-id.
 */
function parseClientBasic(authorization: string): { clientId: string; secret: string } {
  const malformed = (why: string) =>
    new OAuthError('invalid_client', `the client credentials do not parse: ${why}`, CLIENT_HINT, {
      code: 'credentials_unparsable',
      part: 'client',
      why,
    });
  if (authorization.length > MAX_BASIC_CHARS) throw malformed('the Authorization header is too long');
  const parsed = parseAuthorization(authorization);
  if (parsed.scheme !== 'basic') {
    throw malformed('this endpoint takes the Basic scheme for client authentication');
  }
  const encoded = isMalformed(parsed) ? null : parsed.token68;
  if (encoded === null || !BASE64.test(encoded) || encoded.length % 4 !== 0)
    throw malformed('the credentials are not base64');
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw malformed('there is no ":" between client id and secret');
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (clientId === null || secret === null)
    throw malformed('the client id or secret is not valid form-urlencoding');
  if (clientId === '') throw malformed('the client id is empty');
  checkLength('client_id', clientId, MAX_CLIENT_ID_CHARS);
  checkLength('client_secret', secret, MAX_SECRET_CHARS);
  return { clientId, secret };
}

/** application/x-www-form-urlencoded decoding of one value; null when a %-escape is broken. */
function formDecode(text: string): string | null {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

function checkLength(name: string, value: string, max: number): void {
  if (value.length > max) {
    throw new OAuthError('invalid_client', `${name} is longer than ${max} characters`, CLIENT_HINT, {
      code: 'oauth_request_malformed',
      problem: 'too_long',
      parameter: name,
      why: `${value.length} characters`,
    });
  }
}
