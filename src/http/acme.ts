/**
 * The ACME front end (RFC 8555) under /acme: JWS plumbing, nonces and headers here, protocol logic in
 * src/acme/. Every answer, error or not, carries a fresh Replay-Nonce (§6.5) and the directory link
 * (§7.1); every error is an RFC 8555 problem document that also carries reason, hint and request_id.
 */
import { createHash, createPublicKey } from 'node:crypto';
import { X509Certificate } from '@peculiar/x509';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { JWK } from 'jose';
import { CHALLENGE_RETRY_AFTER_SECONDS } from '../acme/challenges.js';
import {
  asFlattenedJws,
  readProtectedHeader,
  thumbprintOf,
  type VerifiedJws,
  verifyJwsSignature,
} from '../acme/jws.js';
import { readKeyChange } from '../acme/key-change.js';
import { ACME_ERROR_PREFIX, AcmeProblem, malformed, notFound, unauthorized } from '../acme/problem.js';
import {
  AcmeUrls,
  accountDocument,
  authorizationDocument,
  challengeDocument,
  directoryDocument,
  orderDocument,
} from '../acme/render.js';
import type { AcmeService } from '../acme/service.js';
import type { Actor } from '../audit/event.js';
import type { AcmeAccount } from '../domain/acme.js';
import type { RegistryQueries } from '../ra/registry-queries.js';

export interface AcmePluginOptions {
  service: AcmeService;
  store: Pick<RegistryQueries, 'getCertificate'>;
  caPem: string;
  requireEab: () => boolean;
  https: boolean;
}

const JOSE = 'application/jose+json';

function actorFor(request: FastifyRequest, account: AcmeAccount | null): Actor {
  return {
    name: account ? `acme:${account.id}` : 'anonymous',
    requestId: request.id,
    address: request.ip,
    method: account ? 'acme_account' : 'anonymous',
    credentialId: account?.id ?? null,
  };
}

function payloadObject(jws: VerifiedJws): Record<string, unknown> {
  if (jws.payload === '') return {};
  try {
    const value = JSON.parse(jws.payload) as unknown;
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // Reported below.
  }
  throw malformed(
    'the JWS payload is not a JSON object',
    'send a JSON object, or an empty payload for POST-as-GET',
  );
}

export async function acmePlugin(app: FastifyInstance, opts: AcmePluginOptions): Promise<void> {
  const { service } = opts;
  const urlsOf = (request: FastifyRequest): AcmeUrls =>
    new AcmeUrls(`${opts.https ? 'https' : 'http'}://${request.headers.host ?? 'localhost'}`);

  // RFC 8555 §6.2: ACME POSTs are application/jose+json and nothing else; this scope is the plugin's
  // own, so the application's JSON parser stays for the other routes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JOSE, { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(malformed('the body is not JSON', 'send a JWS in flattened JSON serialization'), undefined);
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const index = `<${urlsOf(request).directory()}>;rel="index"`;
    const up = reply.getHeader('link');
    reply.header('link', typeof up === 'string' ? [up, index] : index);
    reply.header('cache-control', 'no-store');
    try {
      reply.header('replay-nonce', await service.newNonce());
    } catch {
      // Without a nonce the client cannot continue, but the answer itself still stands.
    }
    return payload;
  });

  app.setErrorHandler(async (error, request, reply) => {
    let problem: AcmeProblem;
    if (error instanceof AcmeProblem) problem = error;
    // RFC 8555 §6.2: a POST that is not application/jose+json is answered 415.
    else if ((error as { code?: string }).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      problem = new AcmeProblem(
        'malformed',
        'unsupported_media_type',
        `ACME requests are ${JOSE}`,
        `send Content-Type: ${JOSE}`,
      );
    else if ((error as { statusCode?: number }).statusCode === 413)
      problem = new AcmeProblem('malformed', 'body_too_large', 'the body is too large', 'send one JWS');
    else {
      request.log.error({ err: error }, 'ACME request failed');
      problem = new AcmeProblem(
        'serverInternal',
        'internal_error',
        'the server failed to handle this request',
        `report request id ${request.id} to the operator`,
      );
    }
    try {
      if (problem.type !== 'badNonce')
        await service.record(
          actorFor(request, null),
          'acme.refused',
          request.url.split('?')[0] ?? '',
          {},
          problem,
        );
    } catch {
      problem = new AcmeProblem(
        'serverInternal',
        'audit_unavailable',
        'the audit log is unavailable',
        'retry later',
      );
    }
    if (problem.extra.conflictAccountId !== undefined)
      reply.header('location', urlsOf(request).account(problem.extra.conflictAccountId));
    if (problem.extra.retryAfterSeconds !== undefined)
      reply.header('retry-after', String(problem.extra.retryAfterSeconds));
    return reply
      .code(problem.status)
      .type('application/problem+json')
      .send({
        type: ACME_ERROR_PREFIX + problem.type,
        title: problem.type,
        status: problem.status,
        detail: problem.message,
        reason: problem.reason,
        hint: problem.hint,
        request_id: request.id,
        ...(problem.extra.subproblems
          ? {
              subproblems: problem.extra.subproblems.map((s) => ({
                type: ACME_ERROR_PREFIX + s.type,
                detail: s.detail,
                identifier: s.identifier,
              })),
            }
          : {}),
      });
  });

  /** §6.2-6.4: parse, check the URL, find the key, verify, then spend the nonce. */
  async function verify(
    request: FastifyRequest,
    key: 'jwk' | 'kid' | 'either',
  ): Promise<{ jws: VerifiedJws; account: AcmeAccount | null; urls: AcmeUrls }> {
    const urls = urlsOf(request);
    const raw = asFlattenedJws(request.body);
    const header = readProtectedHeader(raw);
    if (header.url !== `${urls.base}${request.url}`) {
      throw unauthorized(
        `the JWS "url" header does not name ${urls.base}${request.url}`,
        'set "url" to exactly the URL you POST to (RFC 8555 §6.4)',
      );
    }
    let account: AcmeAccount | null = null;
    let jwk: JWK;
    if (header.kid !== undefined) {
      if (key === 'jwk')
        throw malformed(
          'this request must be signed with "jwk", not "kid"',
          'embed the public key (RFC 8555 §6.2)',
        );
      const id = urls.accountIdOf(header.kid);
      if (id === null)
        throw new AcmeProblem(
          'accountDoesNotExist',
          'acme_account_unknown',
          '"kid" is not an account URL of this server',
          'use the Location newAccount returned',
        );
      account = await service.accountByKid(id);
      jwk = JSON.parse(account.jwk) as JWK;
    } else {
      if (key === 'kid')
        throw malformed(
          'this request must be signed with "kid", not "jwk"',
          'set "kid" to your account URL (RFC 8555 §6.2)',
        );
      jwk = header.jwk as JWK;
    }
    const jws = await verifyJwsSignature(raw, header, jwk);
    await service.spendNonce(header.nonce);
    return { jws, account, urls };
  }

  function requireAccount(account: AcmeAccount | null): AcmeAccount {
    if (!account) throw malformed('this request must be signed with "kid"', 'set "kid" to your account URL');
    return account;
  }

  const hidden = { schema: { hide: true } };

  app.get('/acme/directory', hidden, async (request, reply) =>
    reply.send(directoryDocument(urlsOf(request), opts.requireEab())),
  );
  // §7.2: HEAD answers 200, GET 204; both only carry the nonce.
  app.head('/acme/new-nonce', hidden, async (_request, reply) => reply.code(200).send());
  app.get('/acme/new-nonce', hidden, async (_request, reply) => reply.code(204).send());

  app.post('/acme/new-account', hidden, async (request, reply) => {
    const { jws, urls } = await verify(request, 'jwk');
    const payload = payloadObject(jws);
    // RFC 8555 §7.3.4: an existing account is returned whatever binding accompanies the request.
    const binding =
      payload.externalAccountBinding === undefined || (await service.findAccountByKey(jws.jwk))
        ? null
        : await service.externalAccountBinding(payload.externalAccountBinding, jws.jwk, urls.newAccount());
    const { account, created } = await service.newAccount(jws.jwk, payload, binding, actorFor(request, null));
    return reply
      .code(created ? 201 : 200)
      .header('location', urls.account(account.id))
      .send(accountDocument(urls, account));
  });

  app.post<{ Params: { id: string } }>('/acme/account/:id', hidden, async (request, reply) => {
    const { jws, account, urls } = await verify(request, 'kid');
    const me = requireAccount(account);
    if (me.id !== request.params.id)
      throw unauthorized('this is not your account', 'use your own account URL');
    const payload = payloadObject(jws);
    const updated =
      Object.keys(payload).length === 0
        ? me
        : await service.updateAccount(me, payload, actorFor(request, me));
    return reply.header('location', urls.account(me.id)).send(accountDocument(urls, updated));
  });

  app.post('/acme/key-change', hidden, async (request, reply) => {
    const { jws, account, urls } = await verify(request, 'kid');
    const me = requireAccount(account);
    const next = await readKeyChange(jws.payload, jws.header.url, me, urls.account(me.id));
    const updated = await service.changeKey(me, next, actorFor(request, me));
    return reply.header('location', urls.account(me.id)).send(accountDocument(urls, updated));
  });

  app.post<{ Params: { id: string } }>('/acme/account/:id/orders', hidden, async (request, reply) => {
    const { account, urls } = await verify(request, 'kid');
    const me = requireAccount(account);
    if (me.id !== request.params.id)
      throw unauthorized('these are not your orders', 'use your own account URL');
    const orders = await service.listOrders(me);
    return reply.send({ orders: orders.map((o) => urls.order(o.id)) });
  });

  app.post('/acme/new-order', hidden, async (request, reply) => {
    const { jws, account, urls } = await verify(request, 'kid');
    const me = requireAccount(account);
    const order = await service.newOrder(me, payloadObject(jws), actorFor(request, me));
    return reply.code(201).header('location', urls.order(order.id)).send(orderDocument(urls, order));
  });

  app.post<{ Params: { id: string } }>('/acme/order/:id', hidden, async (request, reply) => {
    const { account, urls } = await verify(request, 'kid');
    const order = await service.getOrder(requireAccount(account), request.params.id);
    if (order.status === 'processing') reply.header('retry-after', String(service.retryAfterSeconds()));
    return reply.header('location', urls.order(order.id)).send(orderDocument(urls, order));
  });

  app.post<{ Params: { id: string } }>('/acme/order/:id/finalize', hidden, async (request, reply) => {
    const { jws, account, urls } = await verify(request, 'kid');
    const me = requireAccount(account);
    const order = await service.finalize(me, request.params.id, payloadObject(jws), actorFor(request, me));
    if (order.status === 'processing') reply.header('retry-after', String(service.retryAfterSeconds()));
    return reply.header('location', urls.order(order.id)).send(orderDocument(urls, order));
  });

  app.post<{ Params: { id: string } }>('/acme/authz/:id', hidden, async (request, reply) => {
    const { account, urls } = await verify(request, 'kid');
    const authz = await service.getAuthorization(request.params.id);
    if (authz.accountId !== requireAccount(account).id) throw notFound('authorization');
    return reply.send(authorizationDocument(urls, authz));
  });

  app.post<{ Params: { authz: string; type: string } }>(
    '/acme/chall/:authz/:type',
    hidden,
    async (request, reply) => {
      const { jws, account, urls } = await verify(request, 'kid');
      const me = requireAccount(account);
      // §7.5.1: an empty object says "validate now"; an empty payload is POST-as-GET.
      const authz =
        jws.payload === ''
          ? await service.getAuthorization(request.params.authz)
          : await service.respondToChallenge(
              me,
              request.params.authz,
              request.params.type,
              actorFor(request, me),
            );
      if (authz.accountId !== me.id) throw notFound('challenge');
      const challenge = authz.challenges.find((c) => c.type === request.params.type);
      if (!challenge) throw notFound('challenge');
      if (challenge.status === 'processing')
        reply.header('retry-after', String(CHALLENGE_RETRY_AFTER_SECONDS));
      return reply
        .header('link', `<${urls.authorization(authz.id)}>;rel="up"`)
        .send(challengeDocument(urls, authz, challenge));
    },
  );

  app.post<{ Params: { serial: string } }>('/acme/cert/:serial', hidden, async (request, reply) => {
    await verify(request, 'kid');
    const certificate = /^[0-9a-f]{1,40}$/.test(request.params.serial)
      ? await opts.store.getCertificate(request.params.serial)
      : null;
    if (!certificate) throw notFound('certificate');
    return reply
      .type('application/pem-certificate-chain')
      .send(`${certificate.certificatePem.trim()}\n${opts.caPem.trim()}\n`);
  });

  app.post('/acme/revoke-cert', hidden, async (request, reply) => {
    const { jws, account } = await verify(request, 'either');
    const payload = payloadObject(jws);
    if (typeof payload.certificate !== 'string')
      throw malformed(
        '"certificate" must be base64url DER',
        'send {"certificate": base64url(DER)} (RFC 8555 §7.6)',
      );
    const der = Buffer.from(payload.certificate, 'base64url');
    let x509: X509Certificate;
    try {
      x509 = new X509Certificate(der);
    } catch {
      throw malformed('"certificate" is not a DER certificate', 'send the certificate this server issued');
    }
    const serial = x509.serialNumber.toLowerCase().replace(/^(00)+(?=.)/, '');
    const known = await opts.store.getCertificate(serial);
    if (!known || !sameCertificate(known.certificatePem, der)) throw notFound('certificate');
    if (!account) {
      // §7.6: signed by the certificate's own key; the JWK must be that key.
      const certJwk = createPublicKey({
        key: Buffer.from(x509.publicKey.rawData),
        format: 'der',
        type: 'spki',
      }).export({ format: 'jwk' }) as JWK;
      if ((await thumbprintOf(certJwk)) !== (await thumbprintOf(jws.jwk))) {
        throw unauthorized(
          'the JWS is signed neither by an account nor by the certificate’s key',
          'sign with the account that ordered it or with the certificate’s private key',
        );
      }
    }
    await service.revoke(known, payload.reason, account, actorFor(request, account));
    return reply.code(200).send();
  });
}

function sameCertificate(pem: string, der: Buffer): boolean {
  const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const stored = Buffer.from(body, 'base64');
  return createHash('sha256').update(stored).digest('hex') === createHash('sha256').update(der).digest('hex');
}
