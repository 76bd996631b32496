/**
 * POST /v1/renewals: a host renews the certificate it presents over mutual TLS, with a CSR for a new
 * key and the same names, and gets the new certificate at once (the RA's renewal policy decides, no
 * operator). The only route an expired certificate may authenticate (`ra.renew_after_expiry`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { authorize } from '../auth/authorize.js';
import { AuthFailure } from '../auth/failure.js';
import type { RegistrationAuthority } from '../ra/service.js';
import { actorOf } from './actor.js';
import { problemSchema } from './problem.js';
import { requestViewBodySchema, toResponse } from './requests.js';

export const RENEWALS_ROUTE = '/v1/renewals';

/** A PEM CSR is a few KiB even with a 4096-bit key; the body limit bounds the whole body anyway. */
const MAX_CSR_CHARS = 32 * 1024;

const renewalViewSchema = {
  type: 'object',
  properties: {
    ...requestViewBodySchema.properties,
    renewed_from: { type: 'string', description: 'serial of the certificate this one renews' },
  },
} as const;

export const renewalsPlugin: FastifyPluginAsyncTypebox<{ ra: RegistrationAuthority; caPem: string }> = async (
  app,
  opts,
) => {
  const { ra, caPem } = opts;
  app.post(
    RENEWALS_ROUTE,
    {
      schema: {
        summary: 'Renew the certificate presented over mutual TLS',
        description:
          'Authenticate with the certificate being renewed (TLS client certificate, no Authorization header) and send a CSR for a new key with the same names (names may be dropped, never added). Answers 201 with the new certificate, 200 when the same CSR renewed before, 202 when a site trigger or a reserved name leaves it for an operator. The policy is ra.renew_window, ra.renew_after_expiry, ra.renew_same_key and ra.revoke_on_renew.',
        tags: ['requests'],
        body: Type.Object(
          { csr: Type.String({ minLength: 1, maxLength: MAX_CSR_CHARS }) },
          { additionalProperties: false },
        ),
        response: {
          200: renewalViewSchema,
          201: renewalViewSchema,
          202: renewalViewSchema,
          '4xx': problemSchema,
          '5xx': problemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (principal.anonymous) {
        throw new AuthFailure(
          'credentials_missing',
          'a renewal is authenticated by the certificate being renewed, and none was presented',
          'present the current certificate and its key on the TLS connection: `certmaster renew --cert cert.pem --key key.pem --server URL`, or `curl --cert cert.pem --key key.pem`',
          { code: 'credentials_absent', route: 'renewal' },
        );
      }
      if (principal.method !== 'client_certificate' || !principal.certificate) {
        throw new AuthFailure(
          'forbidden',
          `a renewal renews the certificate presented on the TLS connection; ${principal.name} authenticated with ${principal.method} and presented none`,
          'present the certificate being renewed without an Authorization header (`certmaster renew` does); for a first certificate use POST /v1/requests',
          { code: 'certificate_required', action: 'renewal', method: principal.method },
        );
      }
      authorize(principal, 'requests:submit');
      const { csr } = request.body;
      const view = await ra.renew({ csrPem: csr, principal, actor: actorOf(request) });
      const retryAfter = ra.retryAfterSeconds;
      const pending = view.request.state === 'pending';
      if (pending) reply.header('retry-after', String(retryAfter));
      reply.header('location', `/v1/requests/${view.request.id}`);
      const body = {
        ...toResponse(view, caPem, retryAfter),
        ...(view.certificate?.renewedFrom ? { renewed_from: view.certificate.renewedFrom } : {}),
      };
      return reply.code(view.existing ? 200 : pending ? 202 : 201).send(body);
    },
  );
};
