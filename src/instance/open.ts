/**
 * An opened data directory: configuration, store, CA and RA wired together. Used by `serve` and by
 * every local operator command, so both act through the same RA.
 */
import { resolve } from 'node:path';
import { loadOrCreateAuditKey } from '../audit/checkpoint.js';
import { FloodSummarizer } from '../audit/flood-summary.js';
import { AuditLog, type Auditor, NoopAuditSink } from '../audit/log.js';
import type { CertificateAuthority } from '../ca/authority.js';
import { CryptoPool, type CryptoService, InlineCrypto } from '../ca/crypto-pool.js';
import { loadConfig } from '../config/file.js';
import type { Config } from '../config/schema.js';
import { cryptoThreads } from '../config/sections/service.js';
import { parseAutosign } from '../domain/autosign.js';
import { parseGracePeriod } from '../domain/grace-period.js';
import { parseReservedNames, reservedNames } from '../domain/reserved-names.js';
import { defaultEnrollers } from '../ra/enrollers/index.js';
import { type RaPolicy, RegistrationAuthority } from '../ra/service.js';
import { TriggerRunner } from '../ra/triggers.js';
import type { CertmasterStore } from '../store/open.js';
import { type Clock, systemClock } from '../types.js';
import { ensurePrivateDir } from '../util/durable-files.js';
import { caPassphraseFromEnvironment } from './ca-passphrase.js';
import { openDataDir, openDataStore } from './data-dir.js';
import type { DataLayout } from './layout.js';
import { loadCertificateAuthority, loadServerNames } from './load.js';
import { publicUrlsFrom } from './revocation.js';
import { ensureSpaceReserve } from './space-reserve.js';

export interface Instance {
  layout: DataLayout;
  config(): Config;
  /** Re-reads certmaster.toml; on an invalid file keeps the running configuration and throws. */
  reloadConfig(): Config;
  store: CertmasterStore;
  ca: CertificateAuthority;
  ra: RegistrationAuthority;
  /** Every decision, hash-chained; `record` fails closed. */
  audit: AuditLog;
  /** What the layers write to: the audit log, or a no-op sink for the audit-cost benchmark only. */
  auditSink: Auditor;
  close(): Promise<void>;
}

export function policyFrom(config: Config, serverNames: readonly string[]): RaPolicy {
  return {
    reserved: reservedNames(parseReservedNames(config.ra.reserved_names), serverNames),
    autosign: parseAutosign(config.ra.autosign),
    allowWildcards: config.ra.allow_wildcards,
    maxNames: config.ra.max_names,
    minRsaBits: config.ra.min_rsa_bits,
    allowDuplicateCertificates: config.ra.allow_duplicate_certificates,
    // Days as the CA counts them: a lifetime in minutes is a fraction of a day.
    leafValidityDays:
      config.ca.leaf_validity_minutes > 0
        ? config.ca.leaf_validity_minutes / 1440
        : config.ca.leaf_validity_days,
    pendingRetryAfterSeconds: config.ra.pending_retry_after_seconds,
    renewal: {
      window: config.ra.renew_window,
      afterExpiryMs: parseGracePeriod(config.ra.renew_after_expiry),
      sameKey: config.ra.renew_same_key,
      revokeOnRenew: config.ra.revoke_on_renew,
    },
  };
}

export async function openInstance(
  dataDir: string,
  options: {
    clock?: Clock;
    storeUrl?: string;
    logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
    /** The CA key's passphrase; when absent, the environment's (CERTMASTER_CA_PASSPHRASE[_FILE]). */
    caPassphrase?: string;
    /** SQLite: write from a worker thread (the server); CLI commands write on their own thread. */
    writerThread?: boolean;
    /**
     * Check CSRs and sign on `server.crypto_threads` worker threads (a server); otherwise on the event
     * loop, which suits the CLI's short-lived commands.
     */
    cryptoThreads?: boolean;
    /** Write DIR/space-reserve when missing (default); `audit prune` opens without it, having freed it. */
    spaceReserve?: boolean;
  } = {},
): Promise<Instance> {
  const opened = openDataDir(dataDir);
  const layout = opened.layout;
  if (options.spaceReserve !== false) ensureSpaceReserve(layout.root);
  let config = opened.config;
  const ca = loadCertificateAuthority(layout, options.caPassphrase ?? caPassphraseFromEnvironment());
  ca.setPublicUrls(publicUrlsFrom(config));
  const threads = options.cryptoThreads === true ? cryptoThreads(config.server.crypto_threads) : 0;
  const crypto: CryptoService =
    threads > 0
      ? new CryptoPool({
          threads,
          onThreadError: (error) =>
            options.logger?.error({ err: error.message }, 'a crypto thread stopped; starting another'),
        })
      : new InlineCrypto();
  ca.useCrypto(crypto);
  const serverNames = loadServerNames(layout);
  let policy = policyFrom(config, serverNames);
  const store = await openDataStore(opened, options.storeUrl, {
    writerThread: options.writerThread === true && config.store.writer_thread,
  });
  const clock = options.clock ?? systemClock;
  let triggers = makeTriggers(layout.root, config, options.logger);
  ensurePrivateDir(layout.secretsDir);
  const audit = new AuditLog({
    store,
    clock,
    signer: loadOrCreateAuditKey(layout.auditKey),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  // Bench-only: measures what auditing costs by replacing the writer with a sink that keeps nothing.
  // Identity-less refusals of a flood become one summary per (source, reason, window): flood-summary.ts.
  const floods = new FloodSummarizer(audit, {
    now: () => clock.now().getTime(),
    enabled: () => config.audit.summarize_floods,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const noopSink = process.env.CERTMASTER_BENCH_AUDIT_SINK === 'noop';
  const auditSink: Auditor = noopSink ? new NoopAuditSink() : floods;
  const ra = new RegistrationAuthority({
    store,
    signer: ca,
    triggers: { run: (event, beforeRunning) => triggers.run(event, beforeRunning) },
    clock,
    policy: () => policy,
    enrollers: defaultEnrollers({ enrollmentUses: store, clock }),
    audit: auditSink,
    ...(noopSink ? {} : { recordsWithin: audit }),
    csrChecker: crypto,
  });
  return {
    layout,
    config: () => config,
    reloadConfig: () => {
      const next = loadConfig(layout.config);
      const nextPolicy = policyFrom(next, serverNames);
      config = next;
      policy = nextPolicy;
      triggers = makeTriggers(layout.root, next, options.logger);
      ca.setPublicUrls(publicUrlsFrom(next));
      return next;
    },
    store,
    ca,
    ra,
    audit,
    auditSink,
    close: async () => {
      await floods.close();
      await audit.close();
      await store.close();
      await crypto.close();
    },
  };
}

function makeTriggers(
  root: string,
  config: Config,
  logger?: { warn(obj: object, msg: string): void },
): TriggerRunner {
  return new TriggerRunner({
    dir: resolve(root, config.triggers.dir),
    timeoutMs: config.triggers.timeout_seconds * 1000,
    ...(logger ? { logger } : {}),
  });
}
