/**
 * GET /metrics (Prometheus text format) and the hooks that feed the request metrics: latency per
 * route pattern, every 4xx problem by status and reason, and every authentication attempt.
 */
import type {
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  onResponseHookHandler,
  onSendHookHandler,
} from 'fastify';
import { authorize } from '../auth/authorize.js';
import { AuthFailure } from '../auth/failure.js';
import type { Metrics } from '../ops/metrics.js';
import type { Principal } from '../types.js';
import { isLoopbackAddress } from '../util/address.js';
import { sentProblemReason } from './problem.js';

/** The values of metrics.access. */
export type MetricsAccess = 'loopback' | 'scope' | 'open';
/** Metrics say how many refusals of which kind happen: audit information. */
export const METRICS_SCOPE = 'audit:read';

export type AccessDecision = 'allow' | 'forbidden' | 'authorize';

/**
 * Who may scrape. `loopback`: callers on this host only, judged by the socket's peer address (a
 * forwarded-for header could be forged); behind a reverse proxy on the same host every caller looks
 * local, so use `scope` there. `scope`: any caller whose principal has audit:read.
 */
export function metricsAccessDecision(access: string, peerAddress: string | undefined): AccessDecision {
  if (access === 'open') return 'allow';
  if (access === 'scope') return 'authorize';
  // loopback, and anything unknown: fail closed to the narrowest setting.
  return peerAddress !== undefined && isLoopbackAddress(peerAddress) ? 'allow' : 'forbidden';
}

export interface MetricsPluginOptions {
  metrics: Metrics;
  /** metrics.access (a MetricsAccess), read per request so a configuration reload (SIGHUP) applies at once. */
  access: () => string;
}

export const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> = async (app, opts) => {
  app.get(
    '/metrics',
    {
      schema: { hide: true },
      preHandler: async (request) => {
        const decision = metricsAccessDecision(opts.access(), request.raw.socket.remoteAddress);
        if (decision === 'forbidden') {
          throw new AuthFailure(
            'forbidden',
            '/metrics is served only to callers on the server itself (metrics.access = loopback)',
            'scrape from the same host, or set metrics.access = scope and scrape with a token that has audit:read',
            { code: 'metrics_not_loopback', address: request.raw.socket.remoteAddress ?? 'unknown' },
          );
        }
        if (decision === 'authorize') authorize(request.principal, METRICS_SCOPE);
      },
    },
    async (_request, reply) => {
      const { contentType, text } = await opts.metrics.exposition();
      return reply.type(contentType).header('cache-control', 'no-store').send(text);
    },
  );
};

/** Route pattern for the latency label; unmatched URLs share one label so scanners cannot grow the series. */
function routeLabel(request: FastifyRequest): string {
  return request.routeOptions.url ?? 'unmatched';
}

/** onResponse: request latency by route pattern (never the raw URL), method and status. */
export function requestDurationHook(metrics: Metrics): onResponseHookHandler {
  // A callback hook: an async one costs every request a promise and a turn of the event loop.
  return (request, reply, done) => {
    metrics.observeRequest(routeLabel(request), request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  };
}

/** Problem bodies are small; anything bigger is not one of ours and is not parsed. */
const MAX_PROBLEM_BYTES = 16 * 1024;

function problemReason(reply: FastifyReply, payload: unknown): string {
  const type = String(reply.getHeader('content-type') ?? '');
  if (!type.startsWith('application/problem+json')) return 'unknown';
  if (typeof payload !== 'string' || payload.length > MAX_PROBLEM_BYTES) return 'unknown';
  try {
    const reason = (JSON.parse(payload) as { reason?: unknown }).reason;
    return typeof reason === 'string' ? reason : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The scheme named in an Authorization header (RFC 9110 §11.6.2), lower-case; "other" when not ours. */
export function authorizationScheme(header: string | undefined): string {
  const scheme = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)/.exec(header ?? '')?.[1]?.toLowerCase();
  return scheme === 'basic' || scheme === 'digest' || scheme === 'bearer' ? scheme : 'other';
}

/**
 * onSend: counts every 4xx problem as a refusal, and every request whose credentials the front
 * door judged as an authentication attempt. The auth onRequest hook sets `request.principal` only
 * when authentication succeeded; it leaves it unset when it threw (a failed attempt) and sets the
 * anonymous principal where it did not look (no credentials, or /oauth/ which authenticates
 * clients itself).
 */
export function refusalHook(metrics: Metrics): onSendHookHandler<unknown> {
  // A callback hook (as requestDurationHook); what it throws, Fastify hands to the error handler alike.
  return (request, reply, payload, done) => {
    countAnswer(metrics, request, reply, payload);
    done(null, payload);
  };
}

function countAnswer(metrics: Metrics, request: FastifyRequest, reply: FastifyReply, payload: unknown): void {
  const status = reply.statusCode;
  const reason = status >= 400 ? (sentProblemReason(reply) ?? problemReason(reply, payload)) : 'unknown';
  if (status >= 400 && status < 500) metrics.refusal(status, reason);
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === '') return;
  const principal = request.principal as Principal | null | undefined;
  if (principal && !principal.anonymous) {
    metrics.authAttempt(authorizationScheme(header), 'success', 'ok');
  } else if (!principal) {
    metrics.authAttempt(authorizationScheme(header), 'failure', reason);
  }
}
