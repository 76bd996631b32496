/**
 * How the OAuth endpoints answer and record: RFC 6749 §5.2 JSON errors (`error`,
 * `error_description`) with certmaster's `reason`, `hint` and `request_id`; throttled attempts as 429
 * with Retry-After and error `slow_down`; every grant and refusal handed to the audit log before the
 * answer leaves, and 503 audit_unavailable when it cannot be written (fail closed).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { OutageNotes } from '../../audit/outage-log.js';
import { bearerChallenge } from '../../auth/challenge.js';
import type { AuthFailure } from '../../auth/failure.js';
import type { OAuthCaller } from '../../auth/oauth/caller.js';
import type { Grant } from '../../auth/oauth/grants.js';
import { basicChallenge } from '../../auth/schemes/basic.js';
import { type OAuthError, oauthStatusOf } from '../../auth/tokens/oauth-error.js';
import type { Clock } from '../../types.js';
import { plainHttpSecretRefusal, secretsRefused } from '../plain-http-secrets.js';
import type { OAuthDecision } from './options.js';
import { NO_STORE } from './wire.js';

export type Endpoint = OAuthDecision['endpoint'];

export interface OAuthRepliesOptions {
  realm: string;
  clock: Clock;
  accessTokenTtlSeconds: number;
  plainHttp: boolean;
  outage?: OutageNotes;
  onDecision?: (decision: OAuthDecision) => void | Promise<void>;
}

export class OAuthReplies {
  readonly basicChallenge: string;

  constructor(private readonly opts: OAuthRepliesOptions) {
    // The API's Basic challenge: client_secret_basic is Basic with form-urlencoded credentials.
    this.basicChallenge = basicChallenge(opts.realm);
  }

  /** What the auth layer needs to know of this request. */
  callerOf(request: FastifyRequest): OAuthCaller {
    const plainHttp = this.opts.plainHttp;
    return {
      requestId: request.id,
      address: request.ip,
      secretRefusal: (what) =>
        secretsRefused(plainHttp, request) ? plainHttpSecretRefusal(request, what) : null,
    };
  }

  async decide(request: FastifyRequest, decision: Omit<OAuthDecision, 'requestId'>): Promise<void> {
    request.log.info({ oauth: decision }, `oauth ${decision.endpoint} ${decision.outcome}`);
    await this.opts.onDecision?.({ requestId: request.id, clientAddress: request.ip, ...decision });
  }

  /** Records an OAuth refusal with its internal cause and what the client was told. */
  recordRefusal(
    request: FastifyRequest,
    endpoint: Endpoint,
    error: OAuthError,
    context: Partial<OAuthDecision>,
    status: number = oauthStatusOf(error.error),
  ): Promise<void> {
    return this.decide(request, {
      ...context,
      endpoint,
      outcome: 'refused',
      error: error.error,
      status,
      ...(error.reason ? { reason: error.reason } : {}),
      internalCause: error.internalCause,
      facts: error.facts,
      description: error.description,
      hint: error.hint,
      // The person who tried to sign in, not the CLI's client id, is who the operator looks for.
      ...(error.claimedName !== undefined ? { subject: error.claimedName } : {}),
    });
  }

  /** Sends the error and records the refusal with its internal cause. */
  async refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    endpoint: Endpoint,
    error: OAuthError,
    context: Partial<OAuthDecision> = {},
  ): Promise<FastifyReply> {
    await this.recordRefusal(request, endpoint, error, context);
    return this.sendOAuthError(request, reply, error);
  }

  sendOAuthError(
    request: FastifyRequest,
    reply: FastifyReply,
    error: OAuthError,
    status: number = oauthStatusOf(error.error),
  ): FastifyReply {
    reply.code(status).headers(NO_STORE);
    // §5.2: 401 for invalid_client, with a challenge (RFC 9110 §15.5.2 requires one on every 401).
    if (status === 401) reply.header('www-authenticate', this.basicChallenge);
    if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
    return reply.send({
      error: error.error,
      error_description: error.description,
      ...(error.reason ? { reason: error.reason } : {}),
      hint: error.hint,
      request_id: request.id,
    });
  }

  /** Records a grant, then sends its tokens (RFC 6749 §5.1). */
  async sendGrant(request: FastifyRequest, reply: FastifyReply, grant: Grant): Promise<FastifyReply> {
    await this.decide(request, { endpoint: 'token', outcome: 'granted', ...grant.record });
    return reply
      .code(200)
      .headers(NO_STORE)
      .send({
        access_token: grant.accessToken,
        token_type: 'Bearer',
        expires_in: this.opts.accessTokenTtlSeconds,
        ...(grant.refreshToken !== undefined ? { refresh_token: grant.refreshToken } : {}),
        scope: grant.scopes.join(' '),
      });
  }

  /** A refused introspection caller: Bearer and Basic challenges, RFC 6750 §3 error attributes. */
  async refuseIntrospection(
    request: FastifyRequest,
    reply: FastifyReply,
    failure: AuthFailure,
  ): Promise<FastifyReply> {
    const status = failure.status;
    const error =
      failure.reason === 'insufficient_scope'
        ? 'insufficient_scope'
        : failure.scheme === 'basic'
          ? 'invalid_client'
          : failure.scheme === 'bearer'
            ? 'invalid_token'
            : 'invalid_request';
    reply.code(status).headers(NO_STORE);
    if (status === 401 || status === 403) {
      reply.header('www-authenticate', [
        this.introspectionBearerChallenge(failure, error),
        this.basicChallenge,
      ]);
    }
    if (failure.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(failure.retryAfterSeconds));
    await this.decide(request, {
      endpoint: 'introspect',
      outcome: 'refused',
      error,
      status,
      reason: failure.reason,
      internalCause: failure.internalCause,
      facts: failure.facts,
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

  /**
   * RFC 6750 §3: error attributes only when a token was presented. With them, scope comes last here
   * (clients of this endpoint have seen that order since it existed), where the API's builder puts it
   * first; both orders are allowed, so the API's builder makes the bare challenge only.
   */
  private introspectionBearerChallenge(failure: AuthFailure, error: string): string {
    if (failure.scheme !== 'bearer') return bearerChallenge(this.opts.realm);
    return `${bearerChallenge(this.opts.realm)}, error="${error}", error_description="${quotable(failure.detail)}"${
      failure.scope ? `, scope="${failure.scope}"` : ''
    }`;
  }

  /** Fail closed: nothing was granted because it could not be recorded; the 503 goes to the log and outage file. */
  auditOutage(request: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
    const at = this.opts.clock.now();
    const why = (error as { reason?: unknown }).reason;
    request.log.error(
      { reason: 'audit_unavailable', at: at.toISOString(), why: typeof why === 'string' ? why : 'unknown' },
      'the audit log could not be written; answered 503 audit_unavailable',
    );
    this.opts.outage?.note({
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
  }
}

/** RFC 6750 §3: error_description allows %x20-21 / %x23-5B / %x5D-7E only. */
function quotable(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "'");
}
