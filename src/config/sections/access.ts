/** Settings of the front door (HTTP authentication) and of the expiry webhooks. */

import { quoteForDisplay } from '../../domain/names.js';
import { checkRelativeOrAbsolutePath } from '../checks.js';
import { booleanSetting, checkBy, integerSetting, stringSetting } from '../setting-kinds.js';
import { parseThresholds, parseWebhookUrls } from '../webhook-settings.js';

const DIGEST_ALGORITHMS = ['SHA-256', 'SHA-512-256', 'MD5'];

export function checkDigestAlgorithms(value: string): string | null {
  const list = value.split(',').map((a) => a.trim());
  if (list.length === 0 || list.some((a) => a === '')) return 'must name at least one algorithm';
  for (const a of list) {
    if (!DIGEST_ALGORITHMS.includes(a))
      return `${quoteForDisplay(a)} is not one of ${DIGEST_ALGORITHMS.join(', ')}`;
  }
  if (new Set(list).size !== list.length) return 'names an algorithm twice';
  return null;
}

export function checkRealm(value: string): string | null {
  if (value === '' || value.length > 100) return 'must be 1 to 100 characters';
  if (!/^[\x20-\x7e]+$/.test(value) || /["\\]/.test(value))
    return 'must be printable ASCII without quotes or backslashes';
  return null;
}

export const authShape = {
  realm: stringSetting(
    'certmaster',
    'printable ASCII without quotes, 1 to 100 characters',
    'Protection space named in every challenge. Changing it makes stored digest secrets useless (RFC 7616 §3.4.2 binds them to the realm).',
    checkRealm,
  ),
  basic: booleanSetting(true, 'Accept HTTP Basic (RFC 7617). Over plain HTTP only from loopback.'),
  digest: booleanSetting(true, 'Accept HTTP Digest (RFC 7616) for accounts that have digest secrets.'),
  digest_algorithms: stringSetting(
    'SHA-256',
    'a comma-separated list of SHA-256, SHA-512-256, MD5',
    'Digest algorithms offered; MD5 only for legacy clients.',
    checkDigestAlgorithms,
  ),
  bearer: booleanSetting(
    true,
    'Accept Bearer tokens (RFC 6750): OAuth access tokens, API and enrollment tokens.',
  ),
  access_token_ttl_seconds: integerSetting(60, 86400, 900, 'Lifetime of OAuth access tokens, in seconds.'),
  refresh_token_ttl_days: integerSetting(1, 365, 30, 'Lifetime of OAuth refresh tokens, in days.'),
  minted_token_max_days: integerSetting(
    1,
    365,
    30,
    'Longest lifetime of an API token created with an OAuth sign-in, in days; logging out revokes it sooner. The default matches the default refresh token lifetime, so a token made from a sign-in lives no longer than the sign-in could. `token create --durable` (admin) makes one not tied to the sign-in.',
  ),
  nonce_lifetime_seconds: integerSetting(
    10,
    3600,
    300,
    'How long a digest nonce stays fresh before the client is told stale=true.',
  ),
  argon2_memory_kib: integerSetting(
    19456,
    1048576,
    19456,
    'argon2id memory cost in KiB (OWASP minimum 19456).',
  ),
  argon2_iterations: integerSetting(2, 20, 2, 'argon2id time cost (OWASP minimum 2).'),
  argon2_parallelism: integerSetting(1, 8, 1, 'argon2id parallelism.'),
  throttle_free_failures: integerSetting(
    1,
    100,
    5,
    'Failed attempts from one address (or one address for one account) before delays start.',
  ),
  throttle_max_delay_seconds: integerSetting(
    1,
    86400,
    900,
    'Longest delay imposed after repeated failures; never a permanent lockout.',
  ),
  throttle_tarpit_ms: integerSetting(
    0,
    10000,
    1000,
    'How long a throttled attempt (429) is held before it is answered, in ms, never longer than its Retry-After: a client that ignores Retry-After and retries at once then slows itself down instead of the server. At most 64 answers per address and 1,024 in all are held; past that they go at once. 0 answers at once.',
  ),
};

export const webhooksShape = {
  urls: stringSetting(
    '',
    'comma-separated https:// or http:// URLs, at most 10; empty for none',
    'Where expiry events are POSTed as JSON signed with Certmaster-Signature: sha256=HMAC; empty turns them off.',
    checkBy(parseWebhookUrls),
  ),
  secret_file: stringSetting(
    'secrets/webhook.key',
    'a file path (relative to the data directory)',
    'File holding the HMAC-SHA256 key that signs webhook bodies (at least 16 bytes; `openssl rand -hex 32`).',
    checkRelativeOrAbsolutePath,
  ),
  thresholds_days: stringSetting(
    '30,7,1',
    'comma-separated whole numbers of days from 1 to 3650, such as 30,7,1',
    'Days before expiry at which a webhook event is sent, once per item and threshold.',
    checkBy(parseThresholds),
  ),
  check_interval_seconds: integerSetting(
    60,
    86400,
    3600,
    'How often the server looks for things about to expire, in seconds.',
  ),
  max_attempts: integerSetting(
    1,
    20,
    8,
    'Attempts per webhook delivery (retried with backoff from 1 s to 5 min on network errors and 5xx).',
  ),
};
