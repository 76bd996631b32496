/**
 * CRL and OCSP for relying parties, without authentication: GET /crl (DER), /crl.pem, /ca.crt (DER),
 * POST /ocsp and GET /ocsp/{base64} (RFC 6960 Appendix A.1). Registered on the main server and on the
 * plain-HTTP public listener.
 */
import { createHash } from 'node:crypto';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { CrlPublisher, CurrentCrl } from '../ca/crl-publisher.js';
import type { OcspAnswer, OcspResponder } from '../ca/ocsp-responder.js';

/** An OCSP request about one certificate is about 100 octets; this leaves room for a nonce and more. */
export const MAX_OCSP_REQUEST_BYTES = 4096;

export interface RevocationRoutesOptions {
  crl: CrlPublisher;
  ocsp: OcspResponder;
  caCertificateDer: Buffer;
  clock: { now(): Date };
}

/** RFC 9110 §13.1.2: If-None-Match wins over If-Modified-Since. */
function notModified(request: FastifyRequest, etag: string, lastModified: Date): boolean {
  const inm = request.headers['if-none-match'];
  if (inm !== undefined) {
    return inm
      .split(',')
      .map((tag) => tag.trim().replace(/^W\//, ''))
      .some((tag) => tag === etag || tag === '*');
  }
  const ims = request.headers['if-modified-since'];
  if (ims === undefined) return false;
  const since = Date.parse(ims);
  return !Number.isNaN(since) && lastModified.getTime() <= since;
}

function maxAgeSeconds(nextUpdate: Date, now: Date): number {
  return Math.max(0, Math.floor((nextUpdate.getTime() - now.getTime()) / 1000));
}

export const revocationPlugin: FastifyPluginAsync<RevocationRoutesOptions> = async (app, opts) => {
  const { crl, ocsp, clock } = opts;

  const sendCrl = async (request: FastifyRequest, reply: FastifyReply, form: 'der' | 'pem') => {
    const current: CurrentCrl = await crl.current();
    const etag = form === 'der' ? current.etag : current.etag.replace(/"$/, '-pem"');
    reply
      .header('etag', etag)
      .header('last-modified', current.thisUpdate.toUTCString())
      .header('expires', current.nextUpdate.toUTCString())
      .header(
        'cache-control',
        `public, max-age=${maxAgeSeconds(current.nextUpdate, clock.now())}, no-transform`,
      );
    if (notModified(request, etag, current.thisUpdate)) return reply.code(304).send();
    return form === 'der'
      ? reply.type('application/pkix-crl').send(current.der)
      : reply.type('application/x-pem-file').send(current.pem);
  };
  app.get(
    '/crl',
    { schema: { summary: 'The current CRL, DER (RFC 5280 §5)', tags: ['pki'] } },
    (request, reply) => sendCrl(request, reply, 'der'),
  );
  app.get('/crl.pem', { schema: { summary: 'The current CRL, PEM', tags: ['pki'] } }, (request, reply) =>
    sendCrl(request, reply, 'pem'),
  );
  app.get(
    '/ca.crt',
    { schema: { summary: 'The CA certificate, DER (the caIssuers URL, RFC 5280 §4.2.2.1)', tags: ['pki'] } },
    async (_request, reply) =>
      reply
        .type('application/pkix-cert')
        .header('cache-control', 'public, max-age=300')
        .send(opts.caCertificateDer),
  );

  const sendOcsp = (reply: FastifyReply, answer: OcspAnswer, cacheable: boolean) => {
    reply.type('application/ocsp-response');
    if (cacheable && answer.thisUpdate && answer.nextUpdate) {
      // RFC 5019 §6.2: caching headers on GET answers, max-age no later than nextUpdate.
      reply
        .header('etag', `"${createHash('sha256').update(answer.der).digest('hex').slice(0, 32)}"`)
        .header('last-modified', answer.thisUpdate.toUTCString())
        .header('expires', answer.nextUpdate.toUTCString())
        .header(
          'cache-control',
          `max-age=${maxAgeSeconds(answer.nextUpdate, clock.now())}, public, no-transform, must-revalidate`,
        );
    } else {
      reply.header('cache-control', 'no-store');
    }
    return reply.send(answer.der);
  };

  // Any body type reaches the handler as bytes: RFC 6960 wants application/ocsp-request, but a client
  // that labels it otherwise gets malformedRequest from the parser, not a 415 it may not understand.
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_OCSP_REQUEST_BYTES }, (_r, body, done) =>
    done(null, body),
  );
  app.post(
    '/ocsp',
    {
      bodyLimit: MAX_OCSP_REQUEST_BYTES,
      schema: { summary: 'OCSP (RFC 6960), DER request body', tags: ['pki'] },
    },
    async (request, reply) => {
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      return sendOcsp(reply, await ocsp.respond(body), false);
    },
  );
  app.get(
    '/ocsp/*',
    { schema: { summary: 'OCSP (RFC 6960 Appendix A.1), base64 request in the path', tags: ['pki'] } },
    async (request, reply) => {
      // The raw path: the request's base64 may contain "/" and "+", percent-encoded or not.
      const raw = request.url.slice(request.url.indexOf('/ocsp/') + '/ocsp/'.length).split('?')[0] ?? '';
      let der = Buffer.alloc(0);
      if (raw.length <= (MAX_OCSP_REQUEST_BYTES * 4) / 3 + 16) {
        try {
          der = Buffer.from(decodeURIComponent(raw), 'base64');
        } catch {
          der = Buffer.alloc(0);
        }
      }
      return sendOcsp(reply, await ocsp.respond(der), true);
    },
  );
};
