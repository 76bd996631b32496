/**
 * The operator's API: list, approve, reject, revoke, clean, and who-am-i. Every route names the
 * scope it needs; the auth hook has already said who is calling.
 */

import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AuthFailure } from '../auth/failure.js';
import { CERTIFICATE_FILTERS } from '../domain/certificate-filter.js';
import { PolicyFailure } from '../ra/failure.js';
import type { RegistryQueries } from '../ra/registry-queries.js';
import type { RegistrationAuthority } from '../ra/service.js';
import type { CertificateRequest, IssuedCertificate } from '../types.js';
import { certificateJson, requestJson } from '../views.js';
import { actorOf } from './actor.js';
import { NEXT_PROPERTY, onePage, PAGE_QUERY } from './paging.js';
import { problemSchema } from './problem.js';
import { objectOrNull, stringEnum } from './request-schema.js';
import { requireScope } from './scope-guard.js';

const requestItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    state: { type: 'string' },
    common_name: { type: 'string' },
    dns_names: { type: 'array', items: { type: 'string' } },
    ip_addresses: { type: 'array', items: { type: 'string' } },
    key: { type: 'string' },
    requester: { type: 'string' },
    client_address: { type: 'string' },
    created_at: { type: 'string' },
    decided_by: { type: ['string', 'null'] },
    rejection_reason: { type: ['string', 'null'] },
    serial: { type: ['string', 'null'] },
  },
} as const;

const certificateItem = {
  type: 'object',
  properties: {
    serial: { type: 'string' },
    common_name: { type: 'string' },
    dns_names: { type: 'array', items: { type: 'string' } },
    ip_addresses: { type: 'array', items: { type: 'string' } },
    not_before: { type: 'string' },
    not_after: { type: 'string' },
    revoked_at: { type: ['string', 'null'] },
    revocation_reason: { type: ['string', 'null'] },
    renewed_from: { type: ['string', 'null'], description: 'serial of the certificate this one renewed' },
    request_id: { type: ['string', 'null'] },
    certificate: { type: 'string' },
  },
} as const;

const idParam = Type.Object({ id: Type.String({ minLength: 1, maxLength: 253 }) });
const serialParam = Type.Object({ serial: Type.String({ pattern: '^[0-9A-Fa-f:]{1,60}$' }) });
const errors = { '4xx': problemSchema, '5xx': problemSchema } as const;

export const operatorPlugin: FastifyPluginAsyncTypebox<{
  ra: RegistrationAuthority;
  store: RegistryQueries;
}> = async (app, opts) => {
  const { ra, store } = opts;

  app.get(
    '/v1/whoami',
    {
      schema: {
        summary: 'Who the server thinks you are',
        tags: ['auth'],
        response: {
          200: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              method: { type: 'string' },
              roles: { type: 'array', items: { type: 'string' } },
              scopes: { type: 'array', items: { type: 'string' } },
              token_id: { type: 'string' },
              token_expires_at: { type: ['string', 'null'] },
              certificate_serial: { type: 'string' },
              certificate_not_after: { type: 'string', format: 'date-time' },
            },
          },
          ...errors,
        },
      },
    },
    // Not async: a refusal thrown from an async handler is a promise rejected before Fastify handles
    // it, which Node books as a possibly unhandled rejection on every anonymous call (issue 11).
    (request) => {
      const p = request.principal;
      if (p.anonymous) {
        throw new AuthFailure(
          'credentials_missing',
          'no credentials were sent',
          'log in with `certmaster login --server URL`',
          { code: 'credentials_absent', route: 'whoami' },
        );
      }
      return {
        name: p.name,
        method: p.method,
        roles: p.roles,
        scopes: p.scopes,
        ...(p.token
          ? { token_id: p.token.id, token_expires_at: p.token.expiresAt?.toISOString() ?? null }
          : {}),
        ...(p.certificate
          ? {
              certificate_serial: p.certificate.serial,
              certificate_not_after: p.certificate.notAfter.toISOString(),
            }
          : {}),
      };
    },
  );

  app.get(
    '/v1/requests',
    {
      preHandler: requireScope('requests:read'),
      schema: {
        summary: 'List certificate requests',
        tags: ['requests'],
        querystring: Type.Object(
          {
            state: Type.Optional(stringEnum(['pending', 'issued', 'rejected', 'all'])),
            ...PAGE_QUERY,
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            type: 'object',
            properties: { requests: { type: 'array', items: requestItem }, ...NEXT_PROPERTY },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const state = q.state === 'all' ? undefined : (q.state ?? 'pending');
      const page = await onePage(
        request,
        reply,
        q,
        (r: CertificateRequest) => ({ at: r.createdAt, key: r.id }),
        (limit, after) =>
          store.listRequests({ ...(state ? { state } : {}), limit, ...(after ? { after } : {}) }),
      );
      return { requests: page.items.map(requestJson), next: page.next };
    },
  );

  app.post(
    '/v1/requests/:id/approve',
    {
      preHandler: requireScope('requests:approve'),
      schema: {
        summary: 'Sign a pending request (by id or common name)',
        tags: ['requests'],
        params: idParam,
        response: {
          200: { type: 'object', properties: { request: requestItem, certificate: certificateItem } },
          ...errors,
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const view = await ra.approve(id, actorOf(request));
      return {
        request: requestJson(view.request),
        certificate: view.certificate
          ? { ...certificateJson(view.certificate), certificate: view.certificate.certificatePem }
          : undefined,
      };
    },
  );

  app.post(
    '/v1/requests/:id/reject',
    {
      preHandler: requireScope('requests:approve'),
      schema: {
        summary: 'Reject a pending request (by id or common name)',
        tags: ['requests'],
        params: idParam,
        body: objectOrNull(
          Type.Object(
            { reason: Type.Optional(Type.String({ maxLength: 500 })) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: { type: 'object', properties: { request: requestItem } }, ...errors },
      },
    },
    async (request) => {
      const { id } = request.params;
      const reason = request.body?.reason ?? null;
      return { request: requestJson(await ra.reject(id, actorOf(request), reason)) };
    },
  );

  app.get(
    '/v1/certificates',
    {
      preHandler: requireScope('certificates:read'),
      schema: {
        summary: 'List certificates',
        tags: ['certificates'],
        querystring: Type.Object(
          {
            status: Type.Optional(stringEnum(CERTIFICATE_FILTERS)),
            common_name: Type.Optional(Type.String({ maxLength: 253 })),
            ...PAGE_QUERY,
          },
          { additionalProperties: false },
        ),
        response: {
          200: {
            type: 'object',
            properties: { certificates: { type: 'array', items: certificateItem }, ...NEXT_PROPERTY },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const page = await onePage(
        request,
        reply,
        q,
        (c: IssuedCertificate) => ({ at: c.createdAt, key: c.serial }),
        (limit, after) =>
          store.listCertificates({
            status: q.status ?? 'all',
            ...(q.common_name ? { commonName: q.common_name.toLowerCase() } : {}),
            limit,
            ...(after ? { after } : {}),
          }),
      );
      return { certificates: page.items.map(certificateJson), next: page.next };
    },
  );

  app.get(
    '/v1/certificates/:serial',
    {
      preHandler: requireScope('certificates:read'),
      schema: {
        summary: 'One certificate, with its PEM',
        tags: ['certificates'],
        params: serialParam,
        response: { 200: certificateItem, ...errors },
      },
    },
    async (request) => {
      const { serial } = request.params;
      const cert = await store.getCertificate(serial.replace(/:/g, '').toLowerCase());
      if (!cert)
        throw new PolicyFailure(
          'not_found',
          `no certificate has serial ${serial}`,
          'list them with GET /v1/certificates',
          { facts: { code: 'object_unknown', kind: 'certificate', id: serial.slice(0, 255) } },
        );
      return { ...certificateJson(cert), certificate: cert.certificatePem };
    },
  );

  app.post(
    '/v1/certificates/:serial/revoke',
    {
      preHandler: requireScope('certificates:revoke'),
      schema: {
        summary: 'Revoke a certificate',
        tags: ['certificates'],
        params: serialParam,
        body: objectOrNull(
          Type.Object(
            { reason: Type.Optional(Type.String({ maxLength: 40 })) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: certificateItem, ...errors },
      },
    },
    async (request) => {
      const { serial } = request.params;
      const reason = request.body?.reason;
      return certificateJson(await ra.revoke(serial, reason, actorOf(request)));
    },
  );

  app.delete(
    '/v1/hosts/:name',
    {
      preHandler: requireScope('hosts:clean'),
      schema: {
        summary: 'Clean a host: remove its requests and revoke its certificates so it can enroll again',
        tags: ['hosts'],
        params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 253 }) }),
        response: {
          200: {
            type: 'object',
            properties: {
              requests_removed: { type: 'integer' },
              certificates_revoked: { type: 'array', items: { type: 'string' } },
            },
          },
          ...errors,
        },
      },
    },
    async (request) => {
      const { name } = request.params;
      const result = await ra.clean(name, actorOf(request));
      return { requests_removed: result.requestsRemoved, certificates_revoked: result.certificatesRevoked };
    },
  );
};
