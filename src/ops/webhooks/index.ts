/**
 * Expiry webhooks: the notifier that lists what expires soon and announces each threshold an item
 * crosses (expiry-notifier.ts), the events it sends (expiring-event.ts) signed with the HMAC key
 * (signature.ts, settings.ts), and how they are delivered: the queue (delivery-queue.ts), its retry
 * schedule (retry-schedule.ts) and one HTTP POST (http-post.ts).
 */

export type { DeliveryOutcome, NotifierLogger } from './delivery-queue.js';
export type { ExpiringEvent } from './expiring-event.js';
export { ExpiryNotifier, type ExpiryNotifierOptions } from './expiry-notifier.js';
export {
  loadWebhookSettings,
  MAX_THRESHOLDS,
  MAX_WEBHOOK_URLS,
  MIN_SECRET_BYTES,
  parseThresholds,
  parseWebhookUrls,
  type WebhookSettings,
} from './settings.js';
export { signBody } from './signature.js';
