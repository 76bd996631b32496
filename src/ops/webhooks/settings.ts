/** The webhook settings of a data directory: the URLs, the thresholds and the HMAC key read from its file. */
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { MIN_SECRET_BYTES, parseThresholds, parseWebhookUrls } from '../../config/webhook-settings.js';

export {
  MAX_THRESHOLDS,
  MAX_WEBHOOK_URLS,
  MIN_SECRET_BYTES,
  parseThresholds,
  parseWebhookUrls,
} from '../../config/webhook-settings.js';

export interface WebhookSettings {
  urls: URL[];
  secret: Buffer;
  thresholdsDays: number[];
}

/**
 * The webhook settings of a data directory, or null when no URL is configured. Fails closed: with
 * URLs but no readable, long enough key it throws rather than send unsigned events.
 */
export function loadWebhookSettings(
  section: { urls: string; secret_file: string; thresholds_days: string },
  dataDir: string,
): WebhookSettings | null {
  const urls = parseWebhookUrls(section.urls);
  if (urls.length === 0) return null;
  const path = isAbsolute(section.secret_file) ? section.secret_file : resolve(dataDir, section.secret_file);
  let secret: Buffer;
  try {
    secret = Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
  } catch (e) {
    throw new Error(
      `webhooks.urls is set but the HMAC key ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); create it with \`openssl rand -hex 32 > ${path}; chmod 600 ${path}\``,
    );
  }
  if (secret.length < MIN_SECRET_BYTES) {
    throw new Error(
      `the HMAC key in ${path} is shorter than ${MIN_SECRET_BYTES} bytes; use \`openssl rand -hex 32\``,
    );
  }
  return { urls, secret, thresholdsDays: parseThresholds(section.thresholds_days) };
}
