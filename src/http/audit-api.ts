/** GET /v1/audit: the audit log for auditors, filtered; what `certmaster audit` and `explain --server` read. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { AuditReader } from '../audit/audit-reader.js';
import { type OutageLookup, outageRecord } from '../audit/outage-log.js';
import { AUDIT_KINDS, type AuditFilter } from '../audit/types.js';
import { auditRecordJson } from '../ops/explain/index.js';
import { NEXT_PROPERTY } from './paging.js';
import { problemSchema } from './problem.js';
import { stringEnum } from './request-schema.js';
import { requireScope } from './scope-guard.js';

const auditQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ format: 'date-time' })),
    until: Type.Optional(Type.String({ format: 'date-time' })),
    principal: Type.Optional(Type.String({ maxLength: 256 })),
    outcome: Type.Optional(stringEnum(['success', 'failure'])),
    reason: Type.Optional(Type.String({ maxLength: 64 })),
    request_id: Type.Optional(Type.String({ maxLength: 64 })),
    kind: Type.Optional(stringEnum(AUDIT_KINDS)),
    target: Type.Optional(Type.String({ maxLength: 300 })),
    after_seq: Type.Optional(Type.Integer({ minimum: 0 })),
    before_seq: Type.Optional(Type.Integer({ minimum: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    order: Type.Optional(stringEnum(['oldest', 'newest'])),
  },
  { additionalProperties: false },
);

export const auditPlugin: FastifyPluginAsyncTypebox<{ store: AuditReader; outage?: OutageLookup }> = async (
  app,
  opts,
) => {
  app.get(
    '/v1/audit',
    {
      preHandler: requireScope('audit:read'),
      schema: {
        summary: 'Audit records: every authentication, refusal and action, with its internal cause',
        tags: ['audit'],
        querystring: auditQuery,
        response: {
          200: {
            type: 'object',
            properties: {
              records: { type: 'array', items: { type: 'object', additionalProperties: true } },
              ...NEXT_PROPERTY,
            },
          },
          '4xx': problemSchema,
          '5xx': problemSchema,
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const filter: AuditFilter & { newestFirst?: boolean } = {
        ...(q.since ? { since: new Date(q.since) } : {}),
        ...(q.until ? { until: new Date(q.until) } : {}),
        ...(q.principal ? { principal: q.principal } : {}),
        ...(q.outcome ? { outcome: q.outcome } : {}),
        ...(q.reason ? { reason: q.reason } : {}),
        ...(q.request_id ? { requestId: q.request_id } : {}),
        ...(q.kind ? { kind: q.kind } : {}),
        ...(q.target ? { target: q.target } : {}),
        ...(q.after_seq !== undefined ? { afterSeq: q.after_seq } : {}),
        ...(q.before_seq !== undefined ? { beforeSeq: q.before_seq } : {}),
        limit: q.limit ?? 1000,
        newestFirst: q.order === 'newest',
      };
      const records = await opts.store.queryAudit(filter);
      // A 503 audit_unavailable is in the outage file, not the log: asked for by id, it is still told.
      if (records.length === 0 && filter.requestId !== undefined && opts.outage) {
        const entry = opts.outage.find(filter.requestId);
        if (entry !== null) records.push(outageRecord(entry));
      }
      // A full page may have a next one: `next` is the seq to continue from (as after_seq oldest first,
      // before_seq newest first), and the Link header (RFC 8288) names that listing whole.
      const last = records[records.length - 1];
      let next: string | null = null;
      if (last !== undefined && records.length === filter.limit && last.seq > 0) {
        const url = new URL(request.url, 'http://certmaster.invalid');
        url.searchParams.delete(filter.newestFirst ? 'after_seq' : 'before_seq');
        url.searchParams.set(filter.newestFirst ? 'before_seq' : 'after_seq', String(last.seq));
        next = String(last.seq);
        reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
      }
      return { records: records.map(auditRecordJson), next };
    },
  );
};
