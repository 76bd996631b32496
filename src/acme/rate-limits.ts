/**
 * ACME rate limits, as Boulder's: new orders per account per hour, and certificates per registered
 * name per week across all accounts. Refusals are rateLimited with Retry-After (RFC 8555 §6.6).
 */
import type { AcmeAccount, AcmeIdentifier } from '../domain/acme.js';
import type { AcmeStore } from '../store/acme/acme-store.js';
import { AcmeProblem } from './problem.js';

const HOUR_MS = 3600 * 1000;
const WEEK_MS = 7 * 24 * HOUR_MS;

export interface RateLimitSettings {
  ordersPerAccountPerHour: number;
  /** 0: no per-name limit. */
  certificatesPerNamePerWeek: number;
}

/**
 * The registered name a limit counts under: the last two labels. Without the public suffix list this
 * counts co.uk-style names together, which errs on the strict side.
 */
export function registeredName(name: string): string {
  const labels = name.replace(/^\*\./, '').split('.');
  return labels.slice(-2).join('.');
}

/** Throws rateLimited when `account` may not place an order for `identifiers` now. */
export async function checkOrderRateLimits(
  store: AcmeStore,
  settings: RateLimitSettings,
  account: AcmeAccount,
  identifiers: AcmeIdentifier[],
  now: Date,
): Promise<void> {
  const hourAgo = new Date(now.getTime() - HOUR_MS);
  if ((await store.countOrdersSince(account.id, hourAgo)) >= settings.ordersPerAccountPerHour) {
    throw new AcmeProblem(
      'rateLimited',
      'acme_rate_limited',
      `this account placed ${settings.ordersPerAccountPerHour} orders in the last hour (acme.orders_per_account_per_hour)`,
      'wait and retry after the time Retry-After gives',
      { retryAfterSeconds: 3600 },
    );
  }
  await checkNameRateLimit(store, settings, identifiers, now);
}

/**
 * Throws rateLimited when names under one of `identifiers`' registered names already got their week's
 * certificates. Checked at newOrder and again at finalize: orders placed before any was finalized
 * would otherwise all be finalized past the limit (Boulder counts at issuance too).
 */
export async function checkNameRateLimit(
  store: AcmeStore,
  settings: RateLimitSettings,
  identifiers: AcmeIdentifier[],
  now: Date,
): Promise<void> {
  const limit = settings.certificatesPerNamePerWeek;
  if (limit === 0) return;
  const weekAgo = new Date(now.getTime() - WEEK_MS);
  for (const domain of new Set(identifiers.map((i) => registeredName(i.value)))) {
    const { count, oldest } = await store.countValidOrdersUnder(domain, weekAgo);
    if (count < limit) continue;
    // The window frees a slot when the oldest counted certificate is a week old.
    const freeAt = (oldest ?? now).getTime() + WEEK_MS;
    throw new AcmeProblem(
      'rateLimited',
      'acme_rate_limited',
      `${limit} certificates were issued for names under ${domain} in the last week (acme.certificates_per_name_per_week)`,
      'wait and retry after the time Retry-After gives, or ask an operator to raise acme.certificates_per_name_per_week',
      { retryAfterSeconds: Math.max(1, Math.ceil((freeAt - now.getTime()) / 1000)) },
    );
  }
}
