/**
 * What a running server counts, for Prometheus: authentication attempts, refusals, request
 * latency, issuance and revocation, and gauges read at scrape time (pending queue, certificates
 * about to expire, the CA's and the server certificate's remaining life). One Registry per server,
 * never prom-client's global one, so two servers in one process (tests) do not mix their numbers.
 *
 * Nothing here knows the store: gauges take injected functions, called only when scraped.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Clock, systemClock } from '../types.js';

export type AuthOutcomeLabel = 'success' | 'failure';
/** How a certificate came to be signed: the autosign policy, an operator, or the requester's own identity. */
export type IssuedVia = 'autosign' | 'operator' | 'identity';
export type WebhookOutcome = 'delivered' | 'failed' | 'dropped';

/** The windows of `certmaster_certificates_expiring`, in days. */
export const EXPIRING_WINDOWS_DAYS = [7, 30] as const;

/** Read at scrape time; a function that throws leaves its gauge empty and counts a scrape error. */
export interface MetricsSources {
  /** Requests waiting for an operator. */
  countPending(): Promise<number>;
  /** For each window (days), how many hosts' latest valid certificate expires within it; same order as asked. */
  countExpiringCertificates(withinDays: readonly number[]): Promise<number[]>;
  caNotAfter(): Date | null;
  serverCertificateNotAfter(): Date | null;
  /** The CRL being served (built afresh if stale), when the CA publishes one. */
  crl?(): Promise<{ thisUpdate: Date; nextUpdate: Date }>;
  /** Free bytes on the data directory's filesystem, and the `audit.min_free_disk` threshold (0: none). */
  dataDirFreeBytes?(): Promise<number>;
  dataDirMinFreeBytes?(): number;
}

export interface MetricsOptions {
  sources?: MetricsSources;
  clock?: Clock;
  /** Node process metrics (CPU, memory, event loop lag, handles); on unless turned off. */
  processMetrics?: boolean;
}

/**
 * Label values must look like the codes the server itself emits (reason codes, RFC 5280 names);
 * anything else is "other", so nothing a caller sends can grow the number of series.
 */
const LABEL_VALUE = /^[a-z0-9_:.-]{1,64}$/;
const AUTH_SCHEMES = new Set(['basic', 'digest', 'bearer', 'mtls', 'oauth_password', 'oauth_client']);
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const VIA = new Set<string>(['autosign', 'operator', 'identity']);

function bounded(value: string): string {
  return LABEL_VALUE.test(value) ? value : 'other';
}

function statusLabel(status: number): string {
  return Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : 'other';
}

/** Latency buckets, seconds: from a cached GET to an argon2id password check under load. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class Metrics {
  readonly registry: Registry;
  readonly #authAttempts: Counter<'scheme' | 'outcome' | 'reason'>;
  readonly #refusals: Counter<'status' | 'reason'>;
  readonly #requestDuration: Histogram<'route' | 'method' | 'status'>;
  readonly #issued: Counter<'via'>;
  readonly #renewed: Counter;
  readonly #renewalRefusals: Counter<'reason'>;
  readonly #revoked: Counter<'reason'>;
  readonly #webhookDeliveries: Counter<'outcome'>;

  constructor(options: MetricsOptions = {}) {
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    const clock = options.clock ?? systemClock;

    this.#authAttempts = new Counter({
      name: 'certmaster_auth_attempts_total',
      help: 'Credentials presented to the front door, by scheme, outcome and refusal reason ("ok" on success).',
      labelNames: ['scheme', 'outcome', 'reason'],
      registers,
    });
    this.#refusals = new Counter({
      name: 'certmaster_refusals_total',
      help: 'Requests answered with a 4xx problem, by status and reason code.',
      labelNames: ['status', 'reason'],
      registers,
    });
    this.#requestDuration = new Histogram({
      name: 'certmaster_http_request_duration_seconds',
      help: 'Time from request to response, by route pattern (never the raw URL), method and status.',
      labelNames: ['route', 'method', 'status'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#issued = new Counter({
      name: 'certmaster_certificates_issued_total',
      help: 'Certificates signed, by who decided: autosign, an operator, or the identity of the requester.',
      labelNames: ['via'],
      registers,
    });
    this.#renewed = new Counter({
      name: 'certmaster_certificates_renewed_total',
      help: 'Certificates signed to replace one the requester already held (POST /v1/renewals).',
      registers,
    });
    this.#renewalRefusals = new Counter({
      name: 'certmaster_renewal_refusals_total',
      help: 'Renewals the RA refused (POST /v1/renewals), by reason code.',
      labelNames: ['reason'],
      registers,
    });
    this.#revoked = new Counter({
      name: 'certmaster_certificates_revoked_total',
      help: 'Certificates revoked, by RFC 5280 reason name.',
      labelNames: ['reason'],
      registers,
    });
    this.#webhookDeliveries = new Counter({
      name: 'certmaster_webhook_deliveries_total',
      help: 'Expiry webhook deliveries: delivered, failed (gave up) or dropped (queue full).',
      labelNames: ['outcome'],
      registers,
    });
    // Counted while the gauges read their sources, so it must wait for those reads before it is written.
    let gaugeReads: () => Promise<unknown> = async () => undefined;
    const scrapeErrors = new Counter({
      name: 'certmaster_scrape_errors_total',
      help: 'Gauges that could not be read at scrape time (the store did not answer), by source.',
      labelNames: ['source'],
      registers,
      async collect() {
        await gaugeReads();
      },
    });
    if (options.sources) gaugeReads = registerGauges(registers, options.sources, clock, scrapeErrors);
    if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  }

  /** `scheme`: basic, digest, bearer (or other); `reason`: "ok" or the AuthFailure reason. */
  authAttempt(scheme: string, outcome: AuthOutcomeLabel, reason: string): void {
    const s = scheme.toLowerCase();
    this.#authAttempts.inc({
      scheme: AUTH_SCHEMES.has(s) ? s : 'other',
      outcome,
      reason: outcome === 'success' ? 'ok' : bounded(reason),
    });
  }

  refusal(status: number, reason: string): void {
    this.#refusals.inc({ status: statusLabel(status), reason: bounded(reason) });
  }

  /** `route` must be the route pattern ("/v1/requests/:id"), never the URL a caller sent. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    if (!Number.isFinite(seconds) || seconds < 0) return;
    const m = method.toUpperCase();
    this.#requestDuration.observe(
      {
        route: route.length <= 200 ? route : 'other',
        method: HTTP_METHODS.has(m) ? m : 'OTHER',
        status: statusLabel(status),
      },
      seconds,
    );
  }

  issued(via: IssuedVia): void {
    this.#issued.inc({ via: VIA.has(via) ? via : 'other' });
  }

  renewed(): void {
    this.#renewed.inc();
  }

  renewalRefused(reason: string): void {
    this.#renewalRefusals.inc({ reason: bounded(reason) });
  }

  /** `reason`: the RFC 5280 §5.3.1 name, e.g. "keyCompromise". */
  revoked(reason: string): void {
    this.#revoked.inc({ reason: /^[A-Za-z]{1,40}$/.test(reason) ? reason : 'other' });
  }

  webhookDelivery(outcome: WebhookOutcome): void {
    this.#webhookDeliveries.inc({ outcome });
  }

  /** The exposition text and its content type, for GET /metrics. */
  async exposition(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() };
  }
}

interface Snapshot {
  pending: number | null;
  expiring: number[] | null;
  caNotAfter: Date | null;
  serverNotAfter: Date | null;
  crl: { thisUpdate: Date; nextUpdate: Date } | null;
  freeBytes: number | null;
}

function registerGauges(
  registers: Registry[],
  sources: MetricsSources,
  clock: Clock,
  scrapeErrors: Counter<'source'>,
): () => Promise<unknown> {
  // A failing source must not fail the whole scrape: the other numbers matter most just then.
  async function read<T>(source: string, fn: () => T | Promise<T>): Promise<T | null> {
    try {
      return await fn();
    } catch {
      scrapeErrors.inc({ source });
      return null;
    }
  }
  // prom-client starts every collect() of one scrape in the same synchronous loop, so sharing the
  // promise while it is pending reads each source once per scrape, and lets the scrape errors
  // counter wait for the reads whose failures it counts.
  let current: Promise<Snapshot> | null = null;
  const snapshot = (): Promise<Snapshot> => {
    current ??= (async () => {
      const [pending, expiring, caNotAfter, serverNotAfter, crl, freeBytes] = await Promise.all([
        read('pending', () => sources.countPending()),
        read('expiring', () => sources.countExpiringCertificates(EXPIRING_WINDOWS_DAYS)),
        read('ca', () => sources.caNotAfter()),
        read('server_certificate', () => sources.serverCertificateNotAfter()),
        sources.crl ? read('crl', () => sources.crl?.() ?? null) : null,
        sources.dataDirFreeBytes ? read('disk', () => sources.dataDirFreeBytes?.() ?? null) : null,
      ]);
      return { pending, expiring, caNotAfter, serverNotAfter, crl, freeBytes };
    })().finally(() => {
      current = null;
    });
    return current;
  };
  const secondsUntil = (date: Date) => Math.floor((date.getTime() - clock.now().getTime()) / 1000);

  new Gauge({
    name: 'certmaster_pending_requests',
    help: 'Certificate requests waiting for an operator (NaN when the store did not answer).',
    registers,
    async collect() {
      // An unlabelled gauge cannot be absent; NaN says "unknown" where 0 would say "none".
      this.set((await snapshot()).pending ?? Number.NaN);
    },
  });
  new Gauge({
    name: 'certmaster_certificates_expiring',
    help: 'Common names whose longest-lived valid certificate expires within the window (renewed hosts do not count).',
    labelNames: ['within_days'],
    registers,
    async collect() {
      this.reset();
      const counts = (await snapshot()).expiring;
      EXPIRING_WINDOWS_DAYS.forEach((days, i) => {
        const n = counts?.[i];
        if (n !== undefined) this.set({ within_days: String(days) }, n);
      });
    },
  });
  new Gauge({
    name: 'certmaster_certificate_expiry_seconds',
    help: 'Seconds until notAfter of the CA certificate (certificate="ca") and the HTTPS server certificate (certificate="server"); negative once expired.',
    labelNames: ['certificate'],
    registers,
    async collect() {
      this.reset();
      const { caNotAfter, serverNotAfter } = await snapshot();
      if (caNotAfter) this.set({ certificate: 'ca' }, secondsUntil(caNotAfter));
      if (serverNotAfter) this.set({ certificate: 'server' }, secondsUntil(serverNotAfter));
    },
  });
  if (sources.dataDirFreeBytes) {
    new Gauge({
      name: 'certmaster_data_dir_free_bytes',
      help: "Free bytes on the data directory's filesystem; every refusal is audited there, and a full disk refuses every action 503 audit_unavailable.",
      registers,
      async collect() {
        this.set((await snapshot()).freeBytes ?? Number.NaN);
      },
    });
  }
  if (sources.dataDirMinFreeBytes) {
    const minFree = sources.dataDirMinFreeBytes;
    new Gauge({
      name: 'certmaster_data_dir_min_free_bytes',
      help: 'audit.min_free_disk in bytes (0: no warning): the server warns when certmaster_data_dir_free_bytes falls below it.',
      registers,
      collect() {
        this.set(minFree());
      },
    });
  }
  if (sources.crl) {
    new Gauge({
      name: 'certmaster_crl_age_seconds',
      help: "Seconds since the served CRL's thisUpdate; it is rebuilt halfway to nextUpdate (NaN when it could not be read).",
      registers,
      async collect() {
        const { crl } = await snapshot();
        this.set(crl ? -secondsUntil(crl.thisUpdate) : Number.NaN);
      },
    });
    new Gauge({
      name: 'certmaster_crl_next_update_seconds',
      help: "Seconds until the served CRL's nextUpdate; relying parties refuse certificates once it passes.",
      registers,
      async collect() {
        const { crl } = await snapshot();
        this.set(crl ? secondsUntil(crl.nextUpdate) : Number.NaN);
      },
    });
  }
  return snapshot;
}
