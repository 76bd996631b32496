/**
 * The OAuth 2 authorization server: /oauth/token (RFC 6749), /oauth/revoke (RFC 7009),
 * /oauth/introspect (RFC 7662), and the metadata (RFC 8414) and JWKS (RFC 7517) a resource server
 * elsewhere needs to verify certmaster's access tokens on its own.
 *
 * Grants:
 * - `password` (§4.3) only for the first-party public client `certmaster-cli` (`certmaster login`):
 *   client_id=certmaster-cli and no secret. No third party ever sees a password, which is the only
 *   case in which RFC 9700 §2.4 tolerates this grant. Returns a rotating refresh token.
 * - `client_credentials` (§4.4) for service accounts (confidential clients); no refresh token (§4.4.3).
 * - `refresh_token` (§6) with rotation and reuse detection (RFC 9700 §4.14.2); `scope` may narrow,
 *   never widen.
 *
 * Errors are RFC 6749 §5.2 JSON (`error`, `error_description`) with certmaster's `reason`, `hint` and
 * `request_id`. Throttled attempts answer 429 with Retry-After and error `slow_down`, the code RFC
 * 8628 registered for token endpoint responses that mean "wait before trying again".
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { OutageNotes } from '../audit/outage-log.js';
import { AuthFailure } from '../auth/failure.js';
import type {
  OAuthAccounts as AuthStore,
  OAuthClientRecord,
  RefreshTokenRecord,
} from '../auth/identity-queries.js';
import { ROLE_SCOPES, SCOPES } from '../auth/scopes.js';
import type { AccessTokens } from '../auth/tokens/access-tokens.js';
import { type PresentedClient, presentedClient } from '../auth/tokens/client-credentials.js';
import { introspectToken } from '../auth/tokens/introspection.js';
import type { SigningKeyRing } from '../auth/tokens/keyring.js';
import { OAuthError, oauthStatusOf } from '../auth/tokens/oauth-error.js';
import type { OpaqueTokens } from '../auth/tokens/opaque-tokens.js';
import type { RefreshTokens } from '../auth/tokens/refresh-tokens.js';
import { revokeToken } from '../auth/tokens/revocation.js';
import { grantedScopes } from '../auth/tokens/scope-grant.js';
import { API_TOKEN_PREFIX, ENROLLMENT_TOKEN_PREFIX } from '../auth/tokens/token-secrets.js';
import type { Clock, Role } from '../types.js';
import { plainHttpSecretRefusal, secretsRefused } from './plain-http-secrets.js';

export interface OAuthPluginOptions {
  keyring: SigningKeyRing;
  accessTokens: AccessTokens;
  refreshTokens: RefreshTokens;
  opaqueTokens: OpaqueTokens;
  store: AuthStore;
  clock: Clock;
  /** The issuer identifier (RFC 8414 §2): https URL without query or fragment; endpoints hang off it. */
  issuer: string;
  accessTokenTtlSeconds: number;
  /** Checks a password with throttling and equal cost for unknown users; throws AuthFailure. */
  verifyPassword(
    username: string,
    password: string,
    clientAddress: string,
  ): Promise<{ name: string; role: Role }>;
  /** Checks a confidential client's secret with throttling; throws AuthFailure. */
  authenticateClient(
    clientId: string,
    clientSecret: string,
    clientAddress: string,
  ): Promise<OAuthClientRecord>;
  /** Plain HTTP: passwords and client secrets are then refused from non-loopback addresses. */
  plainHttp?: boolean;
  /** The public client allowed the password grant: 'certmaster-cli'. */
  firstPartyClientId: string;
  /** The realm of WWW-Authenticate challenges; default "certmaster". */
  realm?: string;
  /** Called (and awaited) just before a refresh token is spent; throwing stops the rotation. */
  beforeRotation?: (info: {
    requestId: string;
    subject: string;
    clientId: string;
    familyId: string;
  }) => Promise<void>;
  /** Where a 503 audit_unavailable is noted when the audit log cannot take it. */
  outage?: OutageNotes;
  /** Every grant and refusal, with the precise cause, for the audit log. */
  onDecision?: (decision: OAuthDecision) => void | Promise<void>;
}

export interface OAuthDecision {
  requestId: string;
  endpoint: 'token' | 'revoke' | 'introspect';
  outcome: 'granted' | 'refused';
  grantType?: string;
  clientId?: string;
  /** The account or client the tokens act for. */
  subject?: string;
  /** Access token jti, refresh token id or API/enrollment token id; never a secret. */
  tokenId?: string;
  familyId?: string;
  error?: string;
  /** The HTTP status the refusal was answered with. */
  status?: number;
  reason?: string;
  internalCause?: string;
  /** What the client was told (error_description) and the hint, for the audit record. */
  description?: string;
  hint?: string;
  /** The address the request came from. */
  clientAddress?: string;
}

type Params = Record<string, string | undefined>;

interface CallingClient {
  clientId: string;
  /** Null for the public first-party client. */
  record: OAuthClientRecord | null;
}

/** A form or JSON body of an OAuth request is a few hundred bytes; 16 KiB leaves room for long tokens. */
const OAUTH_BODY_LIMIT = 16 * 1024;
const MAX_PARAMS = 32;
const MAX_PARAM_CHARS = 8 * 1024;
const MAX_USERNAME_CHARS = 256;
const MAX_PASSWORD_CHARS = 4096;
const FORM = 'application/x-www-form-urlencoded';

const LOGIN_HINT = 'check the user name and password, then run `certmaster login` again';
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

const paramsSchema = {
  type: 'object',
  maxProperties: MAX_PARAMS,
  additionalProperties: { type: 'string', maxLength: MAX_PARAM_CHARS },
} as const;

const oauthErrorSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    error_description: { type: 'string' },
    reason: { type: 'string' },
    hint: { type: 'string' },
    request_id: { type: 'string' },
  },
} as const;

const tokenResponseSchema = {
  type: 'object',
  properties: {
    access_token: { type: 'string' },
    token_type: { type: 'string' },
    expires_in: { type: 'integer' },
    refresh_token: { type: 'string' },
    scope: { type: 'string' },
  },
} as const;

const introspectionSchema = {
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

export const oauthPlugin: FastifyPluginAsync<OAuthPluginOptions> = async (app, opts) => {
  const realm = opts.realm ?? 'certmaster';
  // RFC 8414 §3.3: the metadata's issuer is the issuer identifier exactly, the `iss` of every token.
  const issuer = opts.issuer;
  if (issuer !== opts.accessTokens.issuer) {
    throw new Error(
      `the OAuth issuer ${issuer} differs from the access tokens' issuer ${opts.accessTokens.issuer}`,
    );
  }
  const base = issuer.replace(/\/+$/, '');
  const basicChallenge = `Basic realm="${realm}", charset="UTF-8"`;

  // Encapsulated: only these routes take forms, with our own limit and duplicate check.
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

  /** The endpoint a request was for, for the audit record of a refusal raised before its handler. */
  const endpointOf = (request: FastifyRequest): OAuthDecision['endpoint'] =>
    request.url.startsWith('/oauth/revoke')
      ? 'revoke'
      : request.url.startsWith('/oauth/introspect')
        ? 'introspect'
        : 'token';

  /** Fail closed: nothing was granted because it could not be recorded; the 503 goes to the log and outage file. */
  const auditOutage = (request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply => {
    const at = opts.clock.now();
    const why = (error as { reason?: unknown }).reason;
    request.log.error(
      { reason: 'audit_unavailable', at: at.toISOString(), why: typeof why === 'string' ? why : 'unknown' },
      'the audit log could not be written; answered 503 audit_unavailable',
    );
    opts.outage?.note({
      requestId: request.id,
      at,
      target: `${request.method} ${request.url.split('?')[0]?.slice(0, 200) ?? ''}`,
      why: typeof why === 'string' ? why : 'unknown',
    });
    return reply.code(503).headers(NO_STORE).send({
      error: 'temporarily_unavailable',
      error_description: 'the audit log cannot be written, so nothing was granted',
      reason: 'audit_unavailable',
      hint: 'try again shortly; your refresh token (if any) is still valid',
      request_id: request.id,
    });
  };

  app.setErrorHandler(async (error, request, reply) => {
    if ((error as Error).name === 'AuditUnavailableError') return auditOutage(request, reply, error);
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
        `${err.code ?? 'validation'}: ${err.message}`,
      );
      status = tooLarge ? 413 : 400;
    }
    if (refusal !== null) {
      try {
        await recordRefusal(request, endpointOf(request), refusal, {}, status);
      } catch (e) {
        return auditOutage(request, reply, e);
      }
      return sendOAuthError(request, reply, refusal, status);
    }
    request.log.error({ err: error }, 'oauth endpoint failed');
    try {
      await decide(request, {
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
      return auditOutage(request, reply, e);
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

  const decide = async (
    request: FastifyRequest,
    decision: Omit<OAuthDecision, 'requestId'>,
  ): Promise<void> => {
    request.log.info({ oauth: decision }, `oauth ${decision.endpoint} ${decision.outcome}`);
    await opts.onDecision?.({ requestId: request.id, clientAddress: request.ip, ...decision });
  };

  /** Records an OAuth refusal with its internal cause and what the client was told. */
  const recordRefusal = (
    request: FastifyRequest,
    endpoint: OAuthDecision['endpoint'],
    error: OAuthError,
    context: Partial<OAuthDecision>,
    status: number = statusOf(error),
  ): Promise<void> =>
    decide(request, {
      ...context,
      endpoint,
      outcome: 'refused',
      error: error.error,
      status,
      ...(error.reason ? { reason: error.reason } : {}),
      internalCause: error.internalCause,
      description: error.description,
      hint: error.hint,
      // The person who tried to sign in, not the CLI's client id, is who the operator looks for.
      ...(error.claimedName !== undefined ? { subject: error.claimedName } : {}),
    });

  /** Sends the error and records the refusal with its internal cause. */
  const refuse = async (
    request: FastifyRequest,
    reply: FastifyReply,
    endpoint: OAuthDecision['endpoint'],
    error: OAuthError,
    context: Partial<OAuthDecision> = {},
  ): Promise<FastifyReply> => {
    await recordRefusal(request, endpoint, error, context);
    return sendOAuthError(request, reply, error);
  };

  function sendOAuthError(
    request: FastifyRequest,
    reply: FastifyReply,
    error: OAuthError,
    status: number = statusOf(error),
  ): FastifyReply {
    reply.code(status).headers(NO_STORE);
    // §5.2: 401 for invalid_client, with a challenge (RFC 9110 §15.5.2 requires one on every 401).
    if (status === 401) reply.header('www-authenticate', basicChallenge);
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.send({
      error: error.error,
      error_description: error.description,
      ...(error.reason ? { reason: error.reason } : {}),
      hint: error.hint,
      request_id: request.id,
    });
  }

  /** Authenticates a confidential client, or accepts the public first-party client by its id. */
  async function callingClient(request: FastifyRequest, presented: PresentedClient): Promise<CallingClient> {
    if (presented.method === 'none') {
      if (presented.clientId === opts.firstPartyClientId)
        return { clientId: presented.clientId, record: null };
      throw new OAuthError(
        'invalid_client',
        presented.clientId === null
          ? 'the client did not identify itself'
          : 'this client must authenticate with its secret',
        `send client_id=${opts.firstPartyClientId} (the certmaster CLI) or authenticate a service account with its secret`,
        presented.clientId === null
          ? 'no client authentication'
          : `public use of client ${presented.clientId}`,
      );
    }
    if (presented.clientId === opts.firstPartyClientId) {
      throw new OAuthError(
        'invalid_client',
        `${opts.firstPartyClientId} is a public client and has no secret`,
        `send client_id=${opts.firstPartyClientId} without a secret`,
        `secret presented for public client ${presented.clientId}`,
      );
    }
    if (secretsRefused(opts.plainHttp === true, request))
      throw plainHttpSecretRefusal(request, 'client secret');
    let record: OAuthClientRecord;
    try {
      record = await opts.authenticateClient(presented.clientId, presented.secret, request.ip);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      if (error.reason === 'too_many_attempts') throw slowDown(error);
      throw new OAuthError('invalid_client', error.detail, error.hint, error.internalCause, {
        reason: error.reason,
      });
    }
    if (record.disabled || record.clientId !== presented.clientId) {
      throw new OAuthError(
        'invalid_client',
        'client authentication failed',
        'ask an administrator whether this service account is enabled',
        `client ${presented.clientId} is disabled`,
        { reason: 'account_disabled' },
      );
    }
    return { clientId: record.clientId, record };
  }

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
      let client: CallingClient | undefined;
      try {
        client = await callingClient(request, presentedClient(request.headers.authorization, params));
        switch (grantType) {
          case 'password':
            return await passwordGrant(request, reply, params, client);
          case 'client_credentials':
            return await clientCredentialsGrant(request, reply, params, client);
          case 'refresh_token':
            return await refreshGrant(request, reply, params, client);
          case undefined:
            throw new OAuthError(
              'invalid_request',
              'grant_type is missing',
              'send grant_type=password, client_credentials or refresh_token',
              'no grant_type',
            );
          default:
            throw new OAuthError(
              'unsupported_grant_type',
              'this server does not support that grant type',
              'use grant_type=password, client_credentials or refresh_token',
              `grant_type ${grantType.slice(0, 64)}`,
            );
        }
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        return refuse(request, reply, 'token', error, {
          ...(grantType !== undefined ? { grantType: grantType.slice(0, 64) } : {}),
          ...(client ? { clientId: client.clientId } : {}),
        });
      }
    },
  );

  async function passwordGrant(
    request: FastifyRequest,
    reply: FastifyReply,
    params: Params,
    client: CallingClient,
  ) {
    if (client.record !== null || client.clientId !== opts.firstPartyClientId) {
      throw new OAuthError(
        'unauthorized_client',
        `the password grant is only for ${opts.firstPartyClientId}`,
        'service accounts use grant_type=client_credentials',
        `password grant attempted by client ${client.clientId}`,
      );
    }
    const username = required(params, 'username');
    const password = required(params, 'password');
    if (username.length > MAX_USERNAME_CHARS || password.length > MAX_PASSWORD_CHARS) {
      throw new OAuthError(
        'invalid_request',
        'the user name or password is too long',
        `user names have at most ${MAX_USERNAME_CHARS} characters, passwords at most ${MAX_PASSWORD_CHARS}`,
        'over-long username or password',
      );
    }
    if (secretsRefused(opts.plainHttp === true, request)) throw plainHttpSecretRefusal(request, 'password');
    let account: { name: string; role: Role };
    try {
      account = await opts.verifyPassword(username, password, request.ip);
    } catch (error) {
      if (!(error instanceof AuthFailure)) throw error;
      throw passwordFailure(error, username);
    }
    const scopes = grantedScopes(params.scope, ROLE_SCOPES[account.role]);
    const refresh = await opts.refreshTokens.issue({
      subject: account.name,
      clientId: client.clientId,
      scopes,
    });
    const access = await opts.accessTokens.issue({
      subject: account.name,
      clientId: client.clientId,
      scopes,
      roles: [account.role],
      familyId: refresh.record.familyId,
      ttlSeconds: opts.accessTokenTtlSeconds,
    });
    await decide(request, {
      endpoint: 'token',
      outcome: 'granted',
      grantType: 'password',
      clientId: client.clientId,
      subject: account.name,
      tokenId: access.jti,
      familyId: refresh.record.familyId,
    });
    return sendTokens(reply, access.token, scopes, refresh.token);
  }

  async function clientCredentialsGrant(
    request: FastifyRequest,
    reply: FastifyReply,
    params: Params,
    client: CallingClient,
  ) {
    const record = client.record;
    if (record === null) {
      throw new OAuthError(
        'unauthorized_client',
        'the client_credentials grant is for service accounts that authenticate with a secret',
        'people sign in with `certmaster login` (the password grant)',
        `client_credentials grant attempted by public client ${client.clientId}`,
      );
    }
    const allowed: readonly string[] = ROLE_SCOPES[record.role];
    const scopes = grantedScopes(
      params.scope,
      record.scopes.filter((scope) => allowed.includes(scope)),
    );
    // RFC 9068 §2.2: with no resource owner, the subject is the client itself.
    const access = await opts.accessTokens.issue({
      subject: record.clientId,
      clientId: record.clientId,
      scopes,
      roles: [record.role],
      familyId: null,
      ttlSeconds: opts.accessTokenTtlSeconds,
    });
    await decide(request, {
      endpoint: 'token',
      outcome: 'granted',
      grantType: 'client_credentials',
      clientId: record.clientId,
      subject: record.clientId,
      tokenId: access.jti,
    });
    // §4.4.3: no refresh token; the client can always ask again with its secret.
    return sendTokens(reply, access.token, scopes, undefined);
  }

  async function refreshGrant(
    request: FastifyRequest,
    reply: FastifyReply,
    params: Params,
    client: CallingClient,
  ) {
    const presented = required(params, 'refresh_token');
    let granted: { scopes: string[]; role: Role } | undefined;
    const rotated = await opts.refreshTokens.rotate(presented, client.clientId, async (record) => {
      granted = await refreshAuthorization(record, params.scope);
      // Recorded before the old token is spent: if the audit log is down the client keeps a
      // working refresh token, and its retry is not mistaken for reuse.
      await opts.beforeRotation?.({
        requestId: request.id,
        subject: record.subject,
        clientId: record.clientId,
        familyId: record.familyId,
      });
    });
    if (granted === undefined) throw new Error('refresh authorization did not run');
    const access = await opts.accessTokens.issue({
      subject: rotated.record.subject,
      clientId: rotated.record.clientId,
      scopes: granted.scopes,
      roles: [granted.role],
      familyId: rotated.record.familyId,
      ttlSeconds: opts.accessTokenTtlSeconds,
    });
    await decide(request, {
      endpoint: 'token',
      outcome: 'granted',
      grantType: 'refresh_token',
      clientId: client.clientId,
      subject: rotated.record.subject,
      tokenId: access.jti,
      familyId: rotated.record.familyId,
    });
    return sendTokens(reply, access.token, granted.scopes, rotated.token);
  }

  /**
   * The account behind a refresh token must still exist and be enabled, and its role may have
   * shrunk since sign-in: the new access token gets what the token and the role both allow.
   */
  async function refreshAuthorization(
    record: RefreshTokenRecord,
    requestedScope: string | undefined,
  ): Promise<{ scopes: string[]; role: Role }> {
    const user = await opts.store.getUser(record.subject);
    if (user === null || user.disabled) {
      await opts.refreshTokens.revokeFamily(record.familyId);
      throw new OAuthError(
        'invalid_grant',
        'the refresh token is no longer valid',
        LOGIN_HINT,
        `account ${record.subject} ${user === null ? 'removed' : 'disabled'}: family ${record.familyId} revoked`,
        { reason: 'token_revoked' },
      );
    }
    // §6: the requested scope must not include any scope not originally granted.
    const scopes = grantedScopes(requestedScope, record.scopes);
    const allowed: readonly string[] = ROLE_SCOPES[user.role];
    return { scopes: scopes.filter((scope) => allowed.includes(scope)), role: user.role };
  }

  function sendTokens(
    reply: FastifyReply,
    accessToken: string,
    scopes: string[],
    refreshToken: string | undefined,
  ) {
    return reply
      .code(200)
      .headers(NO_STORE)
      .send({
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: opts.accessTokenTtlSeconds,
        ...(refreshToken !== undefined ? { refresh_token: refreshToken } : {}),
        scope: scopes.join(' '),
      });
  }

  /** RFC 7009; who may revoke what is in auth/tokens/revocation.ts. */
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
        client =
          presented.method === 'none' && presented.clientId === null
            ? { clientId: opts.firstPartyClientId, record: null }
            : await callingClient(request, presented);
        const token = required(params, 'token');
        const { cause, ...revoked } = await revokeToken(token, client.clientId, opts);
        await decide(request, {
          endpoint: 'revoke',
          outcome: 'granted',
          clientId: client.clientId,
          ...revoked,
          internalCause: cause,
        });
        return reply.code(200).headers(NO_STORE).send();
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        return refuse(request, reply, 'revoke', error, client ? { clientId: client.clientId } : {});
      }
    },
  );

  /**
   * RFC 7662. The caller must authenticate (§2.1): a bearer access or API token with scope
   * tokens:manage, or a confidential client (client_secret_basic) whose scopes include it.
   */
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
        caller = await introspectionCaller(request);
      } catch (error) {
        if (!(error instanceof AuthFailure)) throw error;
        return refuseIntrospection(request, reply, error);
      }
      const token = params.token;
      if (token === undefined || token === '') {
        return refuse(
          request,
          reply,
          'introspect',
          new OAuthError(
            'invalid_request',
            'token is missing',
            'send the token to inspect as `token`',
            'no token',
          ),
          { subject: caller },
        );
      }
      const answer = await introspectToken(token, opts);
      await decide(request, {
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

  async function introspectionCaller(request: FastifyRequest): Promise<string> {
    const header = request.headers.authorization;
    if (header === undefined || header.trim() === '') {
      throw new AuthFailure(
        'credentials_missing',
        'introspection needs credentials',
        'send `Authorization: Bearer TOKEN` with a token that has scope tokens:manage, or client credentials',
        'no Authorization header',
      );
    }
    const scheme = header.trimStart().split(' ', 1)[0]?.toLowerCase();
    if (scheme === 'bearer') {
      const token = header.trim().slice('bearer'.length).trim();
      const principal =
        token.startsWith(API_TOKEN_PREFIX) || token.startsWith(ENROLLMENT_TOKEN_PREFIX)
          ? await opts.opaqueTokens.authenticate(token)
          : await opts.accessTokens.verify(token);
      if (!principal.scopes.includes('tokens:manage')) throw insufficientScope(principal.name, 'bearer');
      return principal.name;
    }
    if (scheme === 'basic') {
      let client: CallingClient;
      try {
        client = await callingClient(request, presentedClient(header, {}));
      } catch (error) {
        if (!(error instanceof OAuthError)) throw error;
        throw new AuthFailure(
          error.reason ?? (error.error === 'slow_down' ? 'too_many_attempts' : 'credentials_invalid'),
          error.description,
          error.hint,
          error.internalCause,
          {
            scheme: 'basic',
            ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
          },
        );
      }
      const record = client.record;
      const allowed: readonly string[] = record === null ? [] : ROLE_SCOPES[record.role];
      if (record === null || !record.scopes.includes('tokens:manage') || !allowed.includes('tokens:manage')) {
        throw insufficientScope(client.clientId, 'basic');
      }
      return client.clientId;
    }
    throw new AuthFailure(
      'scheme_unsupported',
      'introspection takes Bearer tokens or Basic client credentials',
      'use one of the schemes listed in the WWW-Authenticate headers of this answer',
      `an unsupported scheme (${String(scheme).length} characters) at introspection`,
    );
  }

  async function refuseIntrospection(request: FastifyRequest, reply: FastifyReply, failure: AuthFailure) {
    const status = failure.status;
    const error =
      failure.reason === 'insufficient_scope'
        ? 'insufficient_scope'
        : failure.scheme === 'basic'
          ? 'invalid_client'
          : failure.scheme === 'bearer'
            ? 'invalid_token'
            : 'invalid_request';
    // RFC 6750 §3: error attributes only when a token was presented.
    const bearerAttributes =
      failure.scheme === 'bearer'
        ? `, error="${error}", error_description="${quotable(failure.detail)}"${
            failure.scope ? `, scope="${failure.scope}"` : ''
          }`
        : '';
    reply.code(status).headers(NO_STORE);
    if (status === 401 || status === 403) {
      reply.header('www-authenticate', [`Bearer realm="${realm}"${bearerAttributes}`, basicChallenge]);
    }
    if (failure.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(failure.retryAfterSeconds));
    await decide(request, {
      endpoint: 'introspect',
      outcome: 'refused',
      error,
      status,
      reason: failure.reason,
      internalCause: failure.internalCause,
      description: failure.detail,
      hint: failure.hint,
      ...(failure.claimedName ? { subject: failure.claimedName } : {}),
    });
    return reply.send({
      error,
      error_description: failure.detail,
      reason: failure.reason,
      hint: failure.hint,
      request_id: request.id,
    });
  }

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
        .send(JSON.stringify(opts.keyring.jwks())),
  );
};

function statusOf(error: OAuthError): number {
  return oauthStatusOf(error.error);
}

function slowDown(failure: AuthFailure): OAuthError {
  return new OAuthError('slow_down', failure.detail, failure.hint, failure.internalCause, {
    reason: 'too_many_attempts',
    retryAfterSeconds: Math.ceil(failure.retryAfterSeconds ?? 60),
  });
}

/** Unknown user and wrong password give the same answer; the audit log keeps which it was. */
function passwordFailure(failure: AuthFailure, username: string): OAuthError {
  const claimedName = failure.claimedName ?? username;
  if (failure.reason === 'too_many_attempts') {
    const slow = slowDown(failure);
    return new OAuthError(slow.error, slow.description, slow.hint, slow.internalCause, {
      reason: 'too_many_attempts',
      retryAfterSeconds: slow.retryAfterSeconds,
      claimedName,
    });
  }
  if (failure.reason === 'credentials_invalid') {
    return new OAuthError(
      'invalid_grant',
      'the user name or password is not correct',
      LOGIN_HINT,
      failure.internalCause,
      { reason: 'credentials_invalid', claimedName },
    );
  }
  return new OAuthError('invalid_grant', failure.detail, failure.hint, failure.internalCause, {
    reason: failure.reason,
    claimedName,
  });
}

function insufficientScope(name: string, scheme: 'bearer' | 'basic'): AuthFailure {
  return new AuthFailure(
    'insufficient_scope',
    'introspection needs scope tokens:manage',
    'use a token or client that has scope tokens:manage (an admin can create one with `certmaster token create --scope tokens:manage`)',
    `${name} lacks tokens:manage`,
    { scheme, scope: 'tokens:manage', claimedName: name },
  );
}

function required(params: Params, name: string): string {
  const value = params[name];
  if (value === undefined || value === '') {
    throw new OAuthError('invalid_request', `${name} is missing`, `send ${name}`, `no ${name}`);
  }
  return value;
}

/** Parses a form body; RFC 6749 §3.2 forbids repeating a parameter. */
function parseForm(body: string): Params {
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
        'form too long',
      );
    }
    if (Object.hasOwn(params, name)) {
      throw new OAuthError(
        'invalid_request',
        `the parameter ${name.slice(0, 64)} is repeated`,
        'send each parameter once (RFC 6749 §3.2)',
        `repeated ${name.slice(0, 64)}`,
      );
    }
    params[name] = value;
  }
  return params;
}

/** RFC 6750 §3: error_description allows %x20-21 / %x23-5B / %x5D-7E only. */
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'");
}
