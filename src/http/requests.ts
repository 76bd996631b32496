/**
 * /v1/requests: hosts submit CSRs and collect certificates, as Func's certmaster and Puppet's CA do.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import { authorize } from '../auth/authorize.js';
import { AuthFailure } from '../auth/failure.js';
import type { RegistrationAuthority, RequestView } from '../ra/service.js';
import { actorOf } from './actor.js';
import { buildProblem, problemSchema, sendProblem } from './problem.js';

/** A PEM CSR is a few KiB even with a 4096-bit key; the body limit bounds the whole body anyway. */
const MAX_CSR_CHARS = 32 * 1024;

/** The view of a certificate request, shared by every route that answers with one (registered with addSchema). */
export const requestViewBodySchema = {
  $id: 'RequestView',
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string', enum: ['pending', 'issued', 'rejected'] },
    common_name: { type: 'string' },
    dns_names: { type: 'array', items: { type: 'string' } },
    ip_addresses: { type: 'array', items: { type: 'string' } },
    key: { type: 'string' },
    requester: { type: 'string' },
    created_at: { type: 'string', format: 'date-time' },
    updated_at: { type: 'string', format: 'date-time' },
    decided_by: { type: ['string', 'null'] },
    rejection_reason: { type: ['string', 'null'] },
    serial: { type: ['string', 'null'] },
    not_before: { type: 'string', format: 'date-time' },
    not_after: { type: 'string', format: 'date-time' },
    certificate: { type: 'string', description: 'the issued certificate, PEM' },
    chain: { type: 'string', description: 'certificate followed by the CA certificate, PEM' },
    revoked: { type: 'boolean' },
    retry_after: { type: 'integer', description: 'seconds to wait before polling again, while pending' },
  },
} as const;

export const requestViewSchema = { $ref: 'RequestView#' } as const;

export function toResponse(view: RequestView, caPem: string, retryAfter: number): Record<string, unknown> {
  const { request: r, certificate: c } = view;
  return {
    id: r.id,
    state: r.state,
    common_name: r.commonName,
    dns_names: r.dnsNames,
    ip_addresses: r.ipAddresses,
    key: r.keyDescription,
    requester: r.requester,
    created_at: r.createdAt.toISOString(),
    updated_at: r.updatedAt.toISOString(),
    decided_by: r.decidedBy,
    rejection_reason: r.rejectionReason,
    serial: r.serial,
    ...(c
      ? {
          not_before: c.notBefore.toISOString(),
          not_after: c.notAfter.toISOString(),
          certificate: c.certificatePem,
          chain: c.certificatePem + caPem,
          revoked: c.revokedAt !== null,
        }
      : {}),
    ...(r.state === 'pending' ? { retry_after: retryAfter } : {}),
  };
}

export const requestsPlugin: FastifyPluginAsyncTypebox<{
  ra: RegistrationAuthority;
  caPem: string;
  anonymousRequests: () => boolean;
}> = async (app, opts) => {
  const { ra, caPem } = opts;

  const send = (reply: FastifyReply, view: RequestView, status: number) => {
    const retryAfter = ra.retryAfterSeconds;
    if (view.request.state === 'pending') reply.header('retry-after', String(retryAfter));
    reply.header('location', `/v1/requests/${view.request.id}`);
    return reply.code(status).send(toResponse(view, caPem, retryAfter));
  };

  app.post(
    '/v1/requests',
    {
      schema: {
        summary: 'Submit a certificate signing request',
        description:
          'Takes one PEM PKCS#10 CSR. Answers 201 with the new request (issued at once when autosign allows it, otherwise pending: poll GET /v1/requests/{id} after Retry-After seconds), or 200 with the existing request when the same CSR was submitted before.',
        tags: ['requests'],
        body: Type.Object(
          { csr: Type.String({ minLength: 1, maxLength: MAX_CSR_CHARS }) },
          { additionalProperties: false },
        ),
        response: {
          200: requestViewSchema,
          201: requestViewSchema,
          '4xx': problemSchema,
          '5xx': problemSchema,
        },
      },
    },
    async (request, reply) => {
      if (request.principal.anonymous && !opts.anonymousRequests()) {
        throw new AuthFailure(
          'credentials_missing',
          'this server does not accept anonymous certificate requests',
          'enroll with an enrollment token: `certmaster request --token TOKEN ...` (ask an operator for one)',
          { code: 'credentials_absent', route: 'anonymous_requests_off' },
        );
      }
      if (!request.principal.anonymous) authorize(request.principal, 'requests:submit');
      const { csr } = request.body;
      const view = await ra.submit({
        csrPem: csr,
        principal: request.principal,
        actor: actorOf(request),
      });
      return send(reply, view, view.existing ? 200 : 201);
    },
  );

  app.get(
    '/v1/requests/:id',
    {
      schema: {
        summary: 'A certificate request, with its certificate once issued',
        description: 'The request id is unguessable and acts as the capability to read it.',
        tags: ['requests'],
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }) }),
        response: { 200: requestViewSchema, '4xx': problemSchema },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const view = await ra.getRequest(id);
      if (!view) {
        return sendProblem(
          reply,
          buildProblem(
            request,
            'not_found',
            'no request has this id',
            'check the id that POST /v1/requests returned',
          ),
        );
      }
      return send(reply, view, 200);
    },
  );
};
