/**
 * EST, Enrollment over Secure Transport (RFC 7030), under /.well-known/est/ and
 * /.well-known/est/LABEL/ (§3.2.2), as one more front end over the RA: an EST client is one more kind
 * of caller, under the same policy, audit and refusal contract as /v1/requests.
 *
 * Authentication is the front door's (§3.2.3: HTTP Basic or Digest over TLS with certmaster accounts,
 * or Bearer tokens; §3.3.2: the TLS client certificate). Enrollment needs one of them: a Digest
 * client only answers a challenge, so an anonymous enrollment is answered 401 rather than queued.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { authorize } from '../auth/authorize.js';
import { AuthFailure } from '../auth/failure.js';
import { Refusal } from '../contract/refusal-error.js';
import { DEFAULT_LEAF_PROFILE, type LeafProfileName, parseLabelProfiles } from '../domain/leaf-profiles.js';
import type { RegistrationAuthority, RequestView } from '../ra/service.js';
import { pemBlocks } from '../util/pem.js';
import { actorOf } from './actor.js';
import {
  base64Body,
  CERTS_ONLY_MEDIA_TYPE,
  certsOnlyCms,
  EstBodyError,
  pkcs10BodyToPem,
} from './est-encoding.js';

export interface EstPluginOptions {
  ra: RegistrationAuthority;
  caPem: string;
  /** The `est.labels` setting, read on every request so a reload takes effect. */
  labels: () => string;
}

const PREFIX = '/.well-known/est';
const labelParams = Type.Object({ label: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }) });
/** Every EST operation is served with and without a label, by one handler: the label is optional to it. */
type EstRoute = { Params: Partial<Static<typeof labelParams>> };
type EstRequest = FastifyRequest<EstRoute>;

export const estPlugin: FastifyPluginAsync<EstPluginOptions> = async (app, opts) => {
  const { ra } = opts;
  const cacerts = base64Body(certsOnlyCms(pemBlocks(opts.caPem, 'CERTIFICATE')));

  // EST bodies are never JSON: only this plugin's parsers apply to its routes.
  app.removeAllContentTypeParsers();
  // RFC 7030 §4.2.1: the body is a base64 PKCS#10 request. Parsed here only as bytes; what they mean is the RA's.
  app.addContentTypeParser(
    ['application/pkcs10', 'application/pkcs10-base64'],
    { parseAs: 'buffer' },
    (_r, body, done) => done(null, body),
  );
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_r, _body, done) =>
    done(
      new Refusal(
        'unsupported_media_type',
        'EST enrollment takes a base64 PKCS#10 request as application/pkcs10 (RFC 7030 §4.2.1)',
        "send `-H 'Content-Type: application/pkcs10' --data-binary @req.b64`",
      ),
    ),
  );

  /** The profile a path asks for: the label's (a 404 for an unknown label), or the default. */
  const profileOf = (request: EstRequest): LeafProfileName => {
    const label = request.params.label;
    if (label === undefined) return DEFAULT_LEAF_PROFILE;
    const profile = parseLabelProfiles(opts.labels()).get(label);
    if (!profile) {
      const known = [...parseLabelProfiles(opts.labels()).keys()];
      throw new Refusal(
        'not_found',
        `this server has no EST label "${label}"`,
        known.length > 0
          ? `use /.well-known/est/ or one of the labels ${known.join(', ')}`
          : 'use /.well-known/est/ without a label; an operator defines labels with `certmaster config set est.labels LABEL=PROFILE`',
      );
    }
    return profile;
  };

  const sendCacerts = async (request: EstRequest, reply: FastifyReply) => {
    profileOf(request);
    return reply
      .type(CERTS_ONLY_MEDIA_TYPE)
      .header('content-transfer-encoding', 'base64')
      .header('cache-control', 'public, max-age=300')
      .send(cacerts);
  };

  // RFC 7030 §4.5.2: 204 says "no particular attributes are required"; the RA's policy (names,
  // key sizes) is told in a refusal when a request breaks it.
  const sendCsrattrs = async (request: EstRequest, reply: FastifyReply) => {
    profileOf(request);
    return reply.code(204).send();
  };

  /** RFC 7030 §4.2.3 answer: the certificate alone; 202 with Retry-After while an operator decides (§4.2.3). */
  const answer = (reply: FastifyReply, view: RequestView) => {
    const { request: r, certificate } = view;
    if (r.state === 'rejected') {
      throw new Refusal(
        'request_rejected',
        `an operator rejected this request (${r.id}) at ${r.updatedAt.toISOString()}${r.rejectionReason ? `: ${r.rejectionReason}` : ''}`,
        'make a new key and CSR and ask an operator before enrolling again; the same CSR is always answered the same way',
      );
    }
    if (r.state === 'pending' || !certificate) {
      return reply
        .code(202)
        .header('retry-after', String(ra.retryAfterSeconds))
        .type('text/plain; charset=utf-8')
        .send(
          `request ${r.id} is waiting for an operator (\`certmaster ca sign ${r.id}\`); send the same request again after Retry-After seconds\n`,
        );
    }
    const der = pemBlocks(certificate.certificatePem, 'CERTIFICATE');
    return reply
      .code(200)
      .type(CERTS_ONLY_MEDIA_TYPE)
      .header('content-transfer-encoding', 'base64')
      .send(base64Body(certsOnlyCms(der)));
  };

  const readCsr = (request: FastifyRequest): string => {
    const body = request.body;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new Refusal(
        'csr_invalid',
        'the request has no body; EST enrollment takes a base64 PKCS#10 request',
        "send `-H 'Content-Type: application/pkcs10' --data-binary @req.b64` (RFC 7030 §4.2.1)",
      );
    }
    try {
      return pkcs10BodyToPem(body);
    } catch (e) {
      if (e instanceof EstBodyError) {
        throw new Refusal(
          'csr_invalid',
          e.message,
          'make the body with `openssl req -outform DER | openssl base64`',
        );
      }
      throw e;
    }
  };

  const enroll = async (request: EstRequest, reply: FastifyReply) => {
    const profile = profileOf(request);
    const principal = request.principal;
    if (principal.anonymous) {
      throw new AuthFailure(
        'credentials_missing',
        'EST enrollment needs credentials and none were sent',
        "answer the challenge with an account (`curl --user NAME:PASSWORD`, or `--digest`), a token (`-H 'Authorization: Bearer TOKEN'`), or this host's certificate (`--cert cert.pem --key key.pem`)",
        { code: 'credentials_absent', route: 'est_enroll' },
      );
    }
    authorize(principal, 'requests:submit');
    const view = await ra.submit({ csrPem: readCsr(request), principal, actor: actorOf(request), profile });
    return answer(reply, view);
  };

  // RFC 7030 §4.2.2: re-enrollment is authenticated by the certificate being renewed, and asks for
  // the same subject and subjectAltName.
  const reenroll = async (request: EstRequest, reply: FastifyReply) => {
    const profile = profileOf(request);
    const principal = request.principal;
    const certificate = principal.certificate;
    if (principal.anonymous) {
      throw new AuthFailure(
        'credentials_missing',
        'EST re-enrollment needs the current certificate on the TLS connection, and none was presented',
        'present the certificate being renewed: `curl --cert cert.pem --key key.pem ...` (RFC 7030 §4.2.2)',
        { code: 'credentials_absent', route: 'est_reenroll' },
      );
    }
    if (principal.method !== 'client_certificate' || !certificate) {
      throw new AuthFailure(
        'forbidden',
        `EST re-enrollment renews the certificate presented on the TLS connection; ${principal.name} authenticated with ${principal.method} and presented none`,
        'present the certificate being renewed (`curl --cert cert.pem --key key.pem`) without an Authorization header, or use simpleenroll for a first certificate',
        { code: 'certificate_required', action: 'est_reenroll', method: principal.method },
      );
    }
    const view = await ra.submit({
      csrPem: readCsr(request),
      principal,
      actor: actorOf(request),
      profile,
      renews: certificate.serial,
    });
    return answer(reply, view);
  };

  const routes: Array<{ op: string; method: 'GET' | 'POST'; handler: typeof enroll; summary: string }> = [
    {
      op: 'cacerts',
      method: 'GET',
      handler: sendCacerts,
      summary: 'EST: the CA certificates (RFC 7030 §4.1)',
    },
    { op: 'csrattrs', method: 'GET', handler: sendCsrattrs, summary: 'EST: CSR attributes (RFC 7030 §4.5)' },
    { op: 'simpleenroll', method: 'POST', handler: enroll, summary: 'EST: enroll (RFC 7030 §4.2.1)' },
    {
      op: 'simplereenroll',
      method: 'POST',
      handler: reenroll,
      summary: 'EST: re-enroll over mutual TLS (RFC 7030 §4.2.2)',
    },
  ];
  for (const { op, method, handler, summary } of routes) {
    app.route<EstRoute>({ method, url: `${PREFIX}/${op}`, schema: { summary, tags: ['est'] }, handler });
    app.route<EstRoute>({
      method,
      url: `${PREFIX}/:label/${op}`,
      schema: { summary: `${summary}, under a label`, tags: ['est'], params: labelParams },
      handler,
    });
  }
};
