/** Parsing of the webhooks.* settings, shared by the config schema and the webhook sender. */
export const MAX_WEBHOOK_URLS = 10;
export const MAX_THRESHOLDS = 10;
/** Shorter than this, an HMAC key is guessable; 32 random bytes as hex is what the docs suggest. */
export const MIN_SECRET_BYTES = 16;

/** Comma-separated http:// or https:// URLs; '' is none. Throws an Error saying which one is wrong. */
export function parseWebhookUrls(text: string): URL[] {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length > MAX_WEBHOOK_URLS) throw new Error(`at most ${MAX_WEBHOOK_URLS} URLs are allowed`);
  return parts.map((part) => {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      throw new Error(`"${part.slice(0, 100)}" is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new Error(`"${part.slice(0, 100)}" must start with https:// or http://`);
    if (url.hash !== '') throw new Error(`"${part.slice(0, 100)}" must not have a #fragment`);
    return url;
  });
}

/** "30,7,1" -> [30, 7, 1] (whole days, 1..3650, no repeats), largest first. */
export function parseThresholds(text: string): number[] {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => !/^[0-9]{1,4}$/.test(p)))
    throw new Error('must be whole numbers of days, as in 30,7,1');
  const days = parts.map(Number);
  if (days.some((d) => d < 1 || d > 3650)) throw new Error('each threshold must be from 1 to 3650 days');
  if (days.length > MAX_THRESHOLDS) throw new Error(`at most ${MAX_THRESHOLDS} thresholds are allowed`);
  if (new Set(days).size !== days.length) throw new Error('names a threshold twice');
  return days.sort((a, b) => b - a);
}
