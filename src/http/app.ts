/**
 * The Fastify application: every front end is a plugin registered here, so the whole HTTP surface
 * is visible in one file. The front door is an onRequest hook (authentication-hook.ts) carried by
 * one encapsulated scope that holds every route it guards.
 */
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Logger } from 'pino';
import type { AuditReader } from '../audit/audit-reader.js';
import type { AuditSink } from '../audit/event.js';
import type { OutageLookup, OutageNotes } from '../audit/outage-log.js';
import type { AuthOutcome, CredentialsInput } from '../auth/authenticator.js';
import type { AuthFailure } from '../auth/failure.js';
import type { TokenAdministration } from '../auth/identity-queries.js';
import type { OpaqueTokens } from '../auth/tokens/opaque-tokens.js';
import type { Metrics } from '../ops/metrics.js';
import type { RegistryQueries } from '../ra/registry-queries.js';
import type { RegistrationAuthority } from '../ra/service.js';
import { ANONYMOUS, type Clock, type Principal, systemClock } from '../types.js';
import { mintRequestId } from '../util/request-id.js';
import { type AcmePluginOptions, acmePlugin } from './acme.js';
import { auditPlugin } from './audit-api.js';
import type { Challenger } from './auth-refusal.js';
import { authenticationHook } from './authentication-hook.js';
import { estPlugin } from './est.js';
import { healthPlugin } from './health.js';
import { metricsPlugin, refusalHook, requestDurationHook } from './metrics.js';
import { type OAuthPluginOptions, oauthPlugin } from './oauth.js';
import { operatorPlugin } from './operator.js';
import { pkiPlugin } from './pki.js';
import { installRefusalHandlers } from './refusal-handler.js';
import { renewalsPlugin } from './renewals.js';
import { requestsPlugin } from './requests.js';
import { type RevocationRoutesOptions, revocationPlugin } from './revocation.js';
import { componentName, registerSharedSchemas } from './shared-schemas.js';
import { tokensPlugin } from './tokens-api.js';
import { noStoreHook, strictTransportHook, TLS_POLICY } from './transport-security.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    challenger: Challenger;
  }
}

export interface FrontDoor {
  authenticate(input: CredentialsInput): Promise<AuthOutcome>;
  challenges(failure: AuthFailure | null, input: { address: string; plainHttp: boolean }): string[];
}

export interface AppDependencies {
  ra: RegistrationAuthority;
  /** What the operator routes list: requests and certificates. */
  store: RegistryQueries;
  ca: { certificatePem: string; certificateDer: Buffer };
  /** Whether an unauthenticated caller may submit a CSR (ra.anonymous_requests). */
  anonymousRequests: () => boolean;
  /** The `est.labels` setting (EST labels and their profiles). */
  estLabels?: () => string;
  /** Readiness: the store answers and keys are loaded. */
  ready: () => Promise<{ ok: boolean; checks: Record<string, string> }>;
  /** Who is calling. Without it every caller is anonymous (tests of the enrollment path alone). */
  auth?: FrontDoor;
  /** The OAuth 2 authorization server (/oauth/*, /.well-known/*), when the front door is on. */
  oauth?: OAuthPluginOptions;
  clock?: Clock;
  /** Prometheus metrics (/metrics, latency and refusal counters), when on. */
  metrics?: Metrics;
  metricsAccess?: () => string;
  /**
   * Bench-only: /__bench/bare (200) and /__bench/bare-401 (a fixed 401), which skip auth and audit,
   * so the benchmark can compare an authenticated route with a bare one on the same server.
   */
  benchRoutes?: boolean;
  /** Where every decision is recorded; without it nothing is (tests of one layer alone). */
  audit?: AuditSink;
  /** Where a 503 audit_unavailable is noted when the audit log itself cannot take it. */
  auditOutage?: OutageNotes;
  /** GET /v1/audit over this store, when auditing is on. */
  auditStore?: AuditReader;
  /** Where GET /v1/audit finds the request ids answered 503 audit_unavailable. */
  auditOutageLookup?: OutageLookup;
  /** /v1/tokens and /v1/users, when the front door is on. */
  tokens?: {
    tokens: OpaqueTokens;
    store: TokenAdministration;
    clock: Clock;
    audit?: AuditSink;
    /** auth.minted_token_max_days in seconds. */
    mintedTokenMaxSeconds: number;
    /** The server's key under which ACME EAB keys are derived. */
    eabServerKey: Buffer;
  };
  /** /crl, /crl.pem, /ca.crt and /ocsp, when the CA's revocation services are running. */
  revocation?: RevocationRoutesOptions;
  /** The ACME front end (RFC 8555) under /acme, when on. */
  acme?: Omit<AcmePluginOptions, 'https'>;
  logger?: Logger | false;
  bodyLimit: number;
  https?: HttpsOptions;
}

/** The server's TLS identity, and (for mutual TLS) the CA whose client certificates it asks for. */
export interface HttpsOptions {
  key: string;
  cert: string;
  ca?: string;
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
}

/** Largest total of request header bytes accepted (Node's default is 16 KiB; stated here on purpose). */
export const MAX_HEADER_BYTES = 16 * 1024;

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  // One clock for token lifetimes, audit times and request ids: the one that issued and verified tokens.
  const clock = deps.clock ?? systemClock;
  const options: FastifyServerOptions & {
    https?: HttpsOptions & Partial<typeof TLS_POLICY>;
  } = {
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: deps.bodyLimit,
    routerOptions: { maxParamLength: 200 },
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    // Carries its time and a tag of its source, so explain finds the flood summary it was folded into.
    genReqId: (raw) => mintRequestId(clock.now().getTime(), raw.socket?.remoteAddress),
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
  };
  if (deps.https) options.https = { ...deps.https, ...TLS_POLICY };
  const app = Fastify({
    ...options,
    http: { maxHeaderSize: MAX_HEADER_BYTES },
  } as FastifyServerOptions) as unknown as FastifyInstance;

  // JSON is the only body this API takes; anything else is a clear 415 rather than a schema error.
  app.removeContentTypeParser('text/plain');
  app.decorateRequest('principal', null as unknown as Principal);
  const plainHttp = !deps.https;
  const challenger: Challenger = {
    challenges: (failure, request) =>
      deps.auth
        ? deps.auth.challenges(failure, { address: request.ip, plainHttp })
        : [`Bearer realm="certmaster"`],
  };
  app.decorate('challenger', challenger);
  if (deps.https) app.addHook('onRequest', strictTransportHook);
  app.addHook('onSend', noStoreHook);
  // Callback hooks here and in metrics.ts: an async hook costs every request a promise and a turn.
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    // Until the front door has looked (inside the authenticated scope), every caller is anonymous.
    request.principal = ANONYMOUS;
    done();
  });

  if (deps.metrics) {
    app.addHook('onSend', refusalHook(deps.metrics));
    app.addHook('onResponse', requestDurationHook(deps.metrics));
  }

  const authenticate = deps.auth ? authenticationHook(deps.auth, deps.audit, clock, plainHttp) : undefined;
  installRefusalHandlers(app, {
    ...(authenticate ? { authenticate } : {}),
    ...(deps.audit ? { audit: deps.audit } : {}),
    ...(deps.auditOutage ? { outage: deps.auditOutage } : {}),
    clock,
    challenger,
    bodyLimit: deps.bodyLimit,
  });

  registerSharedSchemas(app);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'certmaster', version: '0.1.0', description: 'Certificate master for fleets' },
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => componentName(json, i) },
  });
  // The OAuth endpoints authenticate clients themselves (RFC 6749 §2.3: a client's Basic header there
  // holds a client secret, not a user's password), and ACME requests by their JWS signature (RFC 8555
  // §6.2): both live outside the scope that carries the front door.
  if (deps.oauth) await app.register(oauthPlugin, deps.oauth);
  if (deps.acme) await app.register(acmePlugin, { ...deps.acme, https: !plainHttp });
  // Everything else answers only after the front door has judged the caller: one encapsulated scope
  // carries the authentication hook, so a route cannot be registered past it by a URL-prefix slip.
  // EST (RFC 7030 §3.2.3) uses the front door's own schemes, so it is inside.
  await app.register(async (scope) => {
    if (authenticate) scope.addHook('onRequest', authenticate);
    await scope.register(healthPlugin, { ready: deps.ready });
    if (deps.metrics) {
      await scope.register(metricsPlugin, {
        metrics: deps.metrics,
        access: deps.metricsAccess ?? (() => 'loopback'),
      });
    }
    await scope.register(pkiPlugin, { ca: deps.ca });
    if (deps.revocation) await scope.register(revocationPlugin, deps.revocation);
    if (deps.tokens) await scope.register(tokensPlugin, deps.tokens);
    if (deps.auditStore) {
      await scope.register(auditPlugin, {
        store: deps.auditStore,
        ...(deps.auditOutageLookup ? { outage: deps.auditOutageLookup } : {}),
      });
    }
    await scope.register(operatorPlugin, { ra: deps.ra, store: deps.store });
    await scope.register(estPlugin, {
      ra: deps.ra,
      caPem: deps.ca.certificatePem,
      labels: deps.estLabels ?? (() => ''),
    });
    await scope.register(renewalsPlugin, { ra: deps.ra, caPem: deps.ca.certificatePem });
    await scope.register(requestsPlugin, {
      ra: deps.ra,
      caPem: deps.ca.certificatePem,
      anonymousRequests: deps.anonymousRequests,
    });
    scope.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  });
  if (deps.benchRoutes) {
    app.get('/__bench/bare', { schema: { hide: true } }, async () => ({ ok: true }));
    app.get('/__bench/bare-401', { schema: { hide: true } }, async (_request, reply) =>
      reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="certmaster"')
        .type('application/problem+json')
        .send({ type: 'about:blank', title: 'Unauthorized', status: 401 }),
    );
  }
  return app;
}
