/**
 * What expires soon: the CA, the server certificate, issued certificates, API and enrollment
 * tokens (and refresh-token families, when a source for them is given). Sources are injected, so
 * the same listing feeds `certmaster expiring`, the expiry webhooks and the metrics gauges.
 */

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Store } from '../store/certificates/store.js';
import type { AuthStore, TokenRecord } from '../store/identities/auth-store.js';
import type { IssuedCertificate } from '../types.js';
import { describeSeconds } from '../util/durations.js';

export const EXPIRING_KINDS = [
  'ca',
  'server_certificate',
  'crl',
  'certificate',
  'api_token',
  'enrollment_token',
  'refresh_family',
] as const;
export type ExpiringKind = (typeof EXPIRING_KINDS)[number];

export interface ExpiringItem {
  kind: ExpiringKind;
  /** Serial (lower-case hex) for certificates, token id, refresh family id. */
  id: string;
  /** What an operator recognises: a subject or common name, a token's owner and purpose. */
  name: string;
  expiresAt: Date;
  /** Negative once expired. */
  secondsLeft: number;
}

/** The facts about one certificate that expiry needs. */
export interface CertificateFacts {
  serial: string;
  name: string;
  notAfter: Date;
}

/** One login's chain of rotated refresh tokens: it ends when its newest token expires. */
export interface RefreshFamily {
  familyId: string;
  subject: string;
  clientId: string;
  expiresAt: Date;
}

export interface ExpirySources {
  ca?: () => CertificateFacts | null;
  serverCertificate?: () => CertificateFacts | null;
  /** The latest published CRL, or null before the first. */
  crl?: () => Promise<{ crlNumber: bigint; thisUpdate: Date; nextUpdate: Date } | null>;
  /** Issued certificates, any status; revoked ones are skipped here. */
  certificates?: () => Promise<IssuedCertificate[]>;
  /** API and enrollment tokens that are not revoked. */
  tokens?: () => Promise<TokenRecord[]>;
  /**
   * Live refresh-token families. The AuthStore has no query for them yet (it finds refresh tokens
   * only by secret hash), so `instanceExpirySources` leaves this out.
   */
  refreshFamilies?: () => Promise<RefreshFamily[]>;
}

export interface ListExpiringOptions {
  now: Date;
  /** List what expires before now + this. */
  withinSeconds: number;
  /**
   * Certificates, tokens and families that expired longer ago than this are history, not news: a
   * decommissioned host's last certificate should not be listed for ever. The CA and the server
   * certificate are always listed once expired. Default: 30 days.
   */
  expiredLookbackSeconds?: number;
}

const DEFAULT_LOOKBACK_SECONDS = 30 * 86_400;

/** Everything expiring before `now + withinSeconds` (and what already has), soonest first. */
export async function listExpiring(
  sources: ExpirySources,
  options: ListExpiringOptions,
): Promise<ExpiringItem[]> {
  const now = options.now.getTime();
  const horizon = now + options.withinSeconds * 1000;
  const oldest = now - (options.expiredLookbackSeconds ?? DEFAULT_LOOKBACK_SECONDS) * 1000;
  const items: ExpiringItem[] = [];
  const add = (kind: ExpiringKind, id: string, name: string, expiresAt: Date) => {
    items.push({
      kind,
      id,
      name,
      expiresAt,
      secondsLeft: Math.floor((expiresAt.getTime() - now) / 1000),
    });
  };
  const soon = (t: Date) => t.getTime() < horizon && t.getTime() >= oldest;

  for (const [kind, source] of [
    ['ca', sources.ca],
    ['server_certificate', sources.serverCertificate],
  ] as const) {
    const facts = source?.();
    if (facts && facts.notAfter.getTime() < horizon) add(kind, facts.serial, facts.name, facts.notAfter);
  }
  if (sources.crl) {
    // The CRL is rebuilt halfway to its nextUpdate, so one that passed halfway means no server is
    // rebuilding it: listed then, whatever the window, because relying parties fail at nextUpdate.
    const crl = await sources.crl();
    if (crl) {
      const halfway = (crl.thisUpdate.getTime() + crl.nextUpdate.getTime()) / 2;
      if (now >= halfway) add('crl', `crl-${crl.crlNumber}`, `CRL number ${crl.crlNumber}`, crl.nextUpdate);
    }
  }
  if (sources.certificates) {
    for (const cert of latestPerName(await sources.certificates())) {
      if (soon(cert.notAfter)) add('certificate', cert.serial, cert.commonName, cert.notAfter);
    }
  }
  if (sources.tokens) {
    for (const token of await sources.tokens()) {
      if (token.revokedAt || !token.expiresAt || !soon(token.expiresAt)) continue;
      // A used-up enrollment token can do nothing more; its expiry harms no one.
      if (token.kind === 'enrollment' && token.usesLeft === 0) continue;
      add(`${token.kind}_token`, token.id, tokenName(token), token.expiresAt);
    }
  }
  if (sources.refreshFamilies) {
    for (const family of await sources.refreshFamilies()) {
      if (soon(family.expiresAt)) {
        add('refresh_family', family.familyId, `${family.subject} via ${family.clientId}`, family.expiresAt);
      }
    }
  }
  return items.sort(
    (a, b) =>
      a.expiresAt.getTime() - b.expiresAt.getTime() ||
      EXPIRING_KINDS.indexOf(a.kind) - EXPIRING_KINDS.indexOf(b.kind) ||
      (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

/**
 * Per common name, the unrevoked certificate that lasts longest: once a host holds a renewed
 * certificate, the expiry of the one it replaced bites no one.
 */
function latestPerName(certificates: readonly IssuedCertificate[]): IssuedCertificate[] {
  const latest = new Map<string, IssuedCertificate>();
  for (const cert of certificates) {
    if (cert.revokedAt) continue;
    const held = latest.get(cert.commonName);
    if (!held || cert.notAfter.getTime() > held.notAfter.getTime()) latest.set(cert.commonName, cert);
  }
  return [...latest.values()];
}

function tokenName(token: TokenRecord): string {
  if (token.kind === 'enrollment') return token.namePattern ?? token.owner;
  return token.description ? `${token.owner}: ${token.description}` : token.owner;
}

/** Serial, subject CN (or the whole subject) and notAfter of a PEM or DER certificate. */
export function certificateFacts(certificate: string | Buffer | X509Certificate): CertificateFacts {
  const x509 = certificate instanceof X509Certificate ? certificate : new X509Certificate(certificate);
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(x509.subject)?.[1];
  return {
    serial: x509.serialNumber.toLowerCase().replace(/^(?:00)+(?=.)/, ''),
    name: cn ?? x509.subject.replace(/\n/g, ', '),
    notAfter: new Date(x509.validTo),
  };
}

/** At most this many certificates are read per listing: the store's own ceiling for one list. */
const MAX_CERTIFICATES_READ = 10_000;

/**
 * What `instanceExpirySources` reads of an opened data directory (src/instance's `Instance` has all
 * of it). Ops names what it uses rather than importing the wiring, which imports ops.
 */
export interface ExpiryInstance {
  ca: { readonly certificate: X509Certificate };
  /** Where the server certificate is on disk. */
  layout: { readonly serverCertificate: string };
  store: Pick<Store, 'listCertificates'> &
    Pick<AuthStore, 'listTokens'> & { latestCrl: NonNullable<ExpirySources['crl']> };
}

/**
 * The sources of an opened data directory. The server certificate is re-read on every call, so a
 * renewed file on disk is seen without a restart; a missing file means none (plain HTTP).
 */
export function instanceExpirySources(instance: ExpiryInstance): ExpirySources {
  return {
    ca: () => certificateFacts(instance.ca.certificate),
    serverCertificate: () => {
      let pem: string;
      try {
        pem = readFileSync(instance.layout.serverCertificate, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
      return certificateFacts(pem);
    },
    crl: () => instance.store.latestCrl(),
    certificates: () => instance.store.listCertificates({ status: 'all', limit: MAX_CERTIFICATES_READ }),
    tokens: () => instance.store.listTokens({}),
  };
}

/**
 * For each window (days), how many common names hold no valid certificate that outlasts it:
 * renewed hosts do not count, so an alert on this gauge fires only for hosts that will lose theirs.
 * Counted from one read.
 */
export async function countExpiringCertificates(
  sources: ExpirySources,
  now: Date,
  windowsDays: readonly number[],
): Promise<number[]> {
  const t = now.getTime();
  const certificates = sources.certificates ? await sources.certificates() : [];
  const live = latestPerName(certificates).filter((c) => c.notAfter.getTime() > t);
  return windowsDays.map((days) => live.filter((c) => c.notAfter.getTime() <= t + days * 86_400_000).length);
}

const DAY = 86_400;

/** How long, told as everywhere else (src/util/durations.ts). */
export function humanDuration(seconds: number): string {
  return describeSeconds(seconds);
}

export type WarningKind = ExpiringKind | 'session';

const KIND_LABEL: Record<WarningKind, string> = {
  ca: 'the CA certificate',
  server_certificate: 'the server certificate',
  crl: 'the CRL',
  certificate: 'the certificate',
  api_token: 'the API token',
  enrollment_token: 'the enrollment token',
  refresh_family: 'the login session',
  session: 'the login session',
};

const KIND_HINT: Record<WarningKind, string> = {
  ca: 'plan the CA rollover',
  server_certificate: 'replace the server certificate',
  crl: 'start certmaster serve, which rebuilds the CRL',
  certificate: 'request a new certificate',
  api_token: 'create a new token',
  enrollment_token: 'create a new enrollment token',
  refresh_family: 'log in again',
  session: 'log in again',
};

/**
 * A one-line warning when a credential the CLI is about to rely on is close to expiry, else null.
 * "Close" is the last fifth of its life (the rule behind Certmaster-Token-Expires-In), or the last
 * 7 days of anything that lives longer than two weeks; without `issuedAt`, the last 7 days.
 * Short-lived credentials (a 15-minute access token) are thus not warned about for most of their life.
 */
export function expiryWarning(
  kind: WarningKind,
  name: string,
  expiresAt: Date,
  now: Date,
  issuedAt?: Date,
): string | null {
  const left = (expiresAt.getTime() - now.getTime()) / 1000;
  const label = `${KIND_LABEL[kind]} ${JSON.stringify(name)}`;
  const at = expiresAt.toISOString();
  if (left <= 0) return `warning: ${label} expired ${humanDuration(left)} ago (${at}); ${KIND_HINT[kind]}`;
  const lifetime = issuedAt ? (expiresAt.getTime() - issuedAt.getTime()) / 1000 : null;
  const close =
    lifetime === null || lifetime <= 0
      ? left <= 7 * DAY
      : left <= lifetime / 5 || (lifetime > 14 * DAY && left <= 7 * DAY);
  if (!close) return null;
  return `warning: ${label} expires in ${humanDuration(left)} (${at}); ${KIND_HINT[kind]} before then`;
}
