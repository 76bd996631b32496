/**
 * The Fastify application: every front end is a plugin registered here, so the whole HTTP surface
 * is visible in one file. Auth is an onRequest hook that sets `request.principal`.
 */
import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import { PolicyFailure } from '../ra/failure.js';
import type { RegistrationAuthority } from '../ra/service.js';
import { ANONYMOUS, type Principal } from '../types.js';
import { healthPlugin } from './health.js';
import { pkiPlugin } from './pki.js';
import { buildProblem, sendProblem } from './problem.js';
import { requestsPlugin } from './requests.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface AppDependencies {
  ra: RegistrationAuthority;
  ca: { certificatePem: string; certificateDer: Buffer };
  /** Whether an unauthenticated caller may submit a CSR (ra.anonymous_requests). */
  anonymousRequests: () => boolean;
  /** Readiness: the store answers and keys are loaded. */
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  /** Who is calling; the front-door issue slots the schemes in here. */
  authenticate?: (request: FastifyRequest) => Promise<Principal>;
  logger?: Logger | false;
  bodyLimit: number;
  https?: { key: string; cert: string };
}

/** Largest total of request header bytes accepted (Node's default is 16 KiB; stated here on purpose). */
export const MAX_HEADER_BYTES = 16 * 1024;

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const options: FastifyServerOptions & { https?: { key: string; cert: string } } = {
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: deps.bodyLimit,
    maxParamLength: 200,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    genReqId: () => randomBytes(12).toString('base64url'),
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  };
  if (deps.https) options.https = deps.https;
  const app = Fastify({
    ...options,
    http: { maxHeaderSize: MAX_HEADER_BYTES },
  } as FastifyServerOptions) as unknown as FastifyInstance;

  // JSON is the only body this API takes; anything else is a clear 415 rather than a schema error.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', null as unknown as Principal);
  const authenticate = deps.authenticate ?? (async () => ANONYMOUS);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    request.principal = await authenticate(request);
  });

  app.setErrorHandler((error, request, reply) => {
    if (error instanceof PolicyFailure) {
      return sendProblem(
        reply,
        buildProblem(request, error.reason, error.message, error.hint, {
          field: error.field,
          problems: error.problems,
        }),
      );
    }
    const err = error as { code?: string; statusCode?: number; validation?: unknown; message: string };
    if (err.validation) {
      return sendProblem(
        reply,
        buildProblem(
          request,
          'invalid_request',
          `the request body is not valid: ${err.message}`,
          'see /openapi.json for the expected shape',
        ),
      );
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendProblem(
        reply,
        buildProblem(
          request,
          'body_too_large',
          `the body exceeds ${deps.bodyLimit} bytes`,
          'a CSR is a few kilobytes; send one PEM CSR',
        ),
      );
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendProblem(
        reply,
        buildProblem(
          request,
          'unsupported_media_type',
          'this endpoint takes application/json',
          'send Content-Type: application/json',
        ),
      );
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendProblem(
        reply,
        buildProblem(
          request,
          'invalid_request',
          err.message,
          'see /openapi.json for what this endpoint takes',
        ),
      );
    }
    request.log.error({ err: error }, 'unhandled error');
    return sendProblem(
      reply,
      buildProblem(
        request,
        'internal_error',
        'the server failed to handle this request',
        `report request id ${request.id} to the operator`,
      ),
    );
  });

  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      buildProblem(
        request,
        'not_found',
        `nothing is served at ${request.method} ${request.url.split('?')[0]}`,
        'see /openapi.json for the endpoints',
      ),
    ),
  );

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'certmaster', version: '0.1.0', description: 'Certificate master for fleets' },
    },
  });
  await app.register(healthPlugin, { ready: deps.ready });
  await app.register(pkiPlugin, { ca: deps.ca });
  await app.register(requestsPlugin, {
    ra: deps.ra,
    caPem: deps.ca.certificatePem,
    anonymousRequests: deps.anonymousRequests,
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
