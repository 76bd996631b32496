/**
 * One running certmaster server: the front door assembled over an opened data directory, and the
 * Fastify app listening. Used by `certmaster serve` and by tests that need the whole server in process.
 */
import { createServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AuditOutageLog } from '../audit/outage-log.js';
import { EAB_KEY_PURPOSE } from '../auth/tokens/acme-eab.js';
import { CLI_CLIENT_ID } from '../client/api.js';
import { parseListenAddress } from '../config/schema.js';
import { buildApp } from '../http/app.js';
import { oauthDecisionEvent } from '../http/audit-events.js';
import { buildPublicApp } from '../http/public-app.js';
import { freeDiskBytes, minFreeDiskBytes, watchDiskSpace } from '../ops/disk-space.js';
import { countExpiringCertificates, instanceExpirySources, listExpiring } from '../ops/expiry.js';
import { Metrics } from '../ops/metrics.js';
import { ExpiryNotifier, loadWebhookSettings } from '../ops/webhooks/index.js';
import { type Clock, systemClock } from '../types.js';
import { acmeServiceOf } from './acme.js';
import { assembleFrontDoor, type FrontDoorParts, openSecretBox } from './front-door.js';
import { loadServerTls, mutualTls } from './load.js';
import type { Instance } from './open.js';
import { createRevocationServices, type RevocationServices } from './revocation.js';

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  frontDoor: FrontDoorParts;
  metrics: Metrics;
  revocation: RevocationServices;
  /** The plain-HTTP listener for relying parties, when `server.public_http_listen` is set. */
  publicUrl: string | null;
  close(): Promise<void>;
}

/** How often the CRL publisher checks whether its CRL is stale (one aggregate read). */
const CRL_CHECK_INTERVAL_MS = 60_000;

/** A free port, so that the issuer URL (RFC 8414) names the real port even for --listen HOST:0. */
async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ host, port: 0 }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

export async function startCertmasterServer(
  instance: Instance,
  options: { host: string; port: number; plainHttp?: boolean; logger?: Logger | false; clock?: Clock },
): Promise<RunningServer> {
  const clock = options.clock ?? systemClock;
  const port = options.port === 0 ? await freePort(options.host) : options.port;
  const shownHost = options.host.includes(':') ? `[${options.host}]` : options.host;
  const url = `${options.plainHttp ? 'http' : 'https'}://${shownHost}:${port}`;
  const frontDoor = await assembleFrontDoor({
    layout: instance.layout,
    store: instance.store,
    config: () => instance.config(),
    clock,
    issuer: url,
    caCertificateDer: instance.ca.certificateDer,
  });
  const { authenticator } = frontDoor;
  // Replicas share signing keys through the store; re-read them so a rotation elsewhere is seen.
  const keyReload = setInterval(() => void frontDoor.keyring.reload().catch(() => undefined), 30_000);
  keyReload.unref();
  const revocation = createRevocationServices({
    layout: instance.layout,
    ca: instance.ca,
    store: instance.store,
    clock,
    config: () => instance.config(),
  });
  // Issued (or rotated) now rather than on the first OCSP request, so a bad CA directory fails the start.
  revocation.ocspSigner.current();
  // The first CRL is built before the server answers, not on the first fetch or the first timer tick:
  // relying parties that fetch it at once find a current one, and a CA that cannot sign fails the start.
  await revocation.crl.current();
  const outage = new AuditOutageLog(instance.layout.auditOutage);
  const expirySources = instanceExpirySources(instance);
  const metrics = new Metrics({
    clock,
    sources: {
      countPending: async () =>
        (await instance.store.listRequests({ state: 'pending', limit: 10_000 })).length,
      countExpiringCertificates: (windows) => countExpiringCertificates(expirySources, clock.now(), windows),
      caNotAfter: () => instance.ca.notAfter,
      serverCertificateNotAfter: () => expirySources.serverCertificate?.()?.notAfter ?? null,
      crl: () => revocation.crl.current(),
      dataDirFreeBytes: () => freeDiskBytes(instance.layout.root),
      dataDirMinFreeBytes: () => minFreeDiskBytes(instance.config().audit.min_free_disk),
    },
  });
  instance.ra.observe(metrics);
  const webhookSettings = loadWebhookSettings(instance.config().webhooks, instance.layout.root);
  const notifier =
    webhookSettings &&
    new ExpiryNotifier({
      settings: webhookSettings,
      clock,
      list: (now, withinSeconds) => listExpiring(expirySources, { now, withinSeconds }),
      intervalMs: instance.config().webhooks.check_interval_seconds * 1000,
      maxAttempts: instance.config().webhooks.max_attempts,
      ...(options.logger ? { logger: options.logger } : {}),
      onDelivery: (o) => metrics.webhookDelivery(o),
    });
  const revocationRoutes = {
    crl: revocation.crl,
    ocsp: revocation.ocsp,
    caCertificateDer: instance.ca.certificateDer,
    clock,
  };
  const acme = acmeServiceOf(instance, clock);
  const app = await buildApp({
    acme: {
      service: acme,
      store: instance.store,
      caPem: instance.ca.certificatePem,
      requireEab: () => instance.config().acme.require_eab,
    },
    revocation: revocationRoutes,
    benchRoutes: process.env.CERTMASTER_BENCH_ROUTES === '1',
    metrics,
    metricsAccess: () => instance.config().metrics.access,
    ra: instance.ra,
    store: instance.store,
    ca: instance.ca,
    anonymousRequests: () => instance.config().ra.anonymous_requests,
    estLabels: () => instance.config().est.labels,
    ready: async () => {
      const health = await instance.store.health().catch(() => ({ ok: false, schemaVersion: 0 }));
      let signing = true;
      try {
        frontDoor.keyring.signingKey();
      } catch {
        signing = false;
      }
      // The audit log must take writes: without it every action is refused (fail closed). Only the
      // outcome of a real write tells a full disk; a read still answers.
      const audit = await instance.store.auditHead().then(
        () => true,
        () => false,
      );
      const auditWrites = await instance.audit.writable();
      return {
        ok: health.ok && signing && audit && auditWrites.ok,
        checks: {
          store: health.ok ? 'ok' : 'unreachable',
          ca: 'loaded',
          signing_keys: signing ? 'loaded' : 'none usable',
          audit: !audit ? 'unreadable' : auditWrites.ok ? 'ok' : auditWrites.detail,
        },
      };
    },
    logger: options.logger ?? false,
    bodyLimit: instance.config().server.body_limit_bytes,
    ...(options.plainHttp
      ? {}
      : { https: { ...loadServerTls(instance.layout), ...mutualTls(instance.ca.certificatePem) } }),
    auth: authenticator,
    oauth: {
      plainHttp: options.plainHttp === true,
      keyring: frontDoor.keyring,
      accessTokens: frontDoor.accessTokens,
      refreshTokens: frontDoor.refreshTokens,
      opaqueTokens: frontDoor.opaqueTokens,
      tokens: frontDoor.tokens,
      store: instance.store,
      clock,
      issuer: url,
      accessTokenTtlSeconds: instance.config().auth.access_token_ttl_seconds,
      verifyPassword: async (username, password, address) => {
        const user = await authenticator.verifyPassword(username, password, address, undefined);
        return { name: user.name, role: user.role };
      },
      authenticateClient: (clientId, secret, address) =>
        authenticator.verifyClient(clientId, secret, address),
      firstPartyClientId: CLI_CLIENT_ID,
      realm: instance.config().auth.realm,
      beforeRotation: async (info) => {
        await instance.auditSink.record({
          at: clock.now(),
          requestId: info.requestId,
          kind: 'oauth.grant',
          phase: 'request',
          outcome: 'success',
          reason: null,
          principal: info.subject,
          claimedName: null,
          method: 'oauth:refresh_token',
          credentialId: info.familyId,
          clientAddress: null,
          cause: null,
          told: null,
          target: info.clientId,
          details: { family_id: info.familyId },
        });
      },
      outage,
      onDecision: async (d) => {
        await instance.auditSink.record(oauthDecisionEvent(d, clock.now()));
      },
    },
    tokens: {
      tokens: frontDoor.opaqueTokens,
      store: instance.store,
      clock,
      audit: instance.auditSink,
      mintedTokenMaxSeconds: instance.config().auth.minted_token_max_days * 86400,
      eabServerKey: openSecretBox(instance.layout).deriveKey(EAB_KEY_PURPOSE),
    },
    clock,
    audit: instance.auditSink,
    auditOutage: outage,
    auditOutageLookup: outage,
    auditStore: instance.store,
  });
  await app.listen({ host: options.host, port });
  let publicApp: Awaited<ReturnType<typeof buildPublicApp>> | null = null;
  let publicUrl: string | null = null;
  const publicListen = instance.config().server.public_http_listen;
  if (publicListen !== '') {
    const address = parseListenAddress(publicListen);
    publicApp = await buildPublicApp({ ca: instance.ca, revocation: revocationRoutes });
    try {
      await publicApp.listen({ host: address.host, port: address.port });
    } catch (error) {
      await app.close();
      throw error;
    }
    const bound = publicApp.server.address();
    const boundPort = typeof bound === 'object' && bound ? bound.port : address.port;
    publicUrl = `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${boundPort}`;
  }
  revocation.crl.start(CRL_CHECK_INTERVAL_MS, (error) =>
    options.logger ? options.logger.warn({ err: error }, 'could not refresh the CRL') : undefined,
  );
  notifier?.start();
  const diskWatch = options.logger
    ? watchDiskSpace({
        dir: instance.layout.root,
        minFree: () => instance.config().audit.min_free_disk,
        logger: options.logger,
      })
    : null;
  await diskWatch?.check();
  return {
    app,
    url,
    frontDoor,
    metrics,
    revocation,
    publicUrl,
    close: async () => {
      clearInterval(keyReload);
      revocation.crl.stop();
      notifier?.stop();
      diskWatch?.stop();
      await publicApp?.close();
      await app.close();
      await acme.drain();
    },
  };
}
