/** The OAuth endpoints' wire format: form bodies, their limits, and the JSON schemas of the answers. */
import type { FastifyInstance } from 'fastify';
import { OAuthError } from '../../auth/tokens/oauth-error.js';

export type Params = Record<string, string | undefined>;

/** A form or JSON body of an OAuth request is a few hundred bytes; 16 KiB leaves room for long tokens. */
export const OAUTH_BODY_LIMIT = 16 * 1024;
const MAX_PARAMS = 32;
const MAX_PARAM_CHARS = 8 * 1024;
export const FORM = 'application/x-www-form-urlencoded';

export const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

export const paramsSchema = {
  type: 'object',
  maxProperties: MAX_PARAMS,
  additionalProperties: { type: 'string', maxLength: MAX_PARAM_CHARS },
} as const;

export const oauthErrorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    error_description: { type: 'string' },
    reason: { type: 'string' },
    hint: { type: 'string' },
    request_id: { type: 'string' },
  },
} as const;

export const tokenResponseSchema = {
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
    scope: { type: 'string' },
  },
} as const;

export const introspectionSchema = {
  type: 'object',
  properties: {
    active: { type: 'boolean' },
    scope: { type: 'string' },
    client_id: { type: 'string' },
    username: { type: 'string' },
    token_type: { type: 'string' },
    exp: { type: 'integer' },
    iat: { type: 'integer' },
    nbf: { type: 'integer' },
    sub: { type: 'string' },
    aud: { type: 'string' },
    iss: { type: 'string' },
    jti: { type: 'string' },
    certmaster_token_kind: {
      type: 'string',
      enum: ['access_token', 'refresh_token', 'api_token', 'enrollment_token'],
    },
  },
  required: ['active'],
} as const;

/** Encapsulated: only the OAuth routes take forms, with our own limit and duplicate check. */
export function registerFormParser(app: FastifyInstance): void {
  if (app.hasContentTypeParser(FORM)) app.removeContentTypeParser(FORM);
  app.addContentTypeParser(
    FORM,
    { parseAs: 'string', bodyLimit: OAUTH_BODY_LIMIT },
    (_request, body, done) => {
      try {
        done(null, parseForm(String(body)));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
}

/** Parses a form body; RFC 6749 §3.2 forbids repeating a parameter. */
export function parseForm(body: string): Params {
  // No prototype: a parameter named "__proto__" or "constructor" is just a parameter.
  const params: Params = Object.create(null);
  let count = 0;
  for (const [name, value] of new URLSearchParams(body)) {
    count += 1;
    if (count > MAX_PARAMS) {
      throw new OAuthError(
        'invalid_request',
        'too many parameters',
        'send only the parameters of one grant',
        { code: 'oauth_request_malformed', problem: 'too_many_parameters' },
      );
    }
    if (Object.hasOwn(params, name)) {
      throw new OAuthError(
        'invalid_request',
        `the parameter ${name.slice(0, 64)} is repeated`,
        'send each parameter once (RFC 6749 §3.2)',
        { code: 'oauth_request_malformed', problem: 'parameter_repeated', parameter: name.slice(0, 64) },
      );
    }
    params[name] = value;
  }
  return params;
}
