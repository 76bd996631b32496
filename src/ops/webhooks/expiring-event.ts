/** What a webhook receiver is sent: the JSON event for one item that crossed a threshold. */
import type { ExpiringItem } from '../expiry.js';

/** The JSON body of one event. */
export interface ExpiringEvent {
  event: 'expiring';
  kind: ExpiringItem['kind'];
  id: string;
  name: string;
  expires_at: string;
  /** Negative once expired. */
  seconds_left: number;
  threshold_days: number;
}

/** The event announcing that an item is inside a threshold (in days). */
export function expiringEvent(item: ExpiringItem, thresholdDays: number): ExpiringEvent {
  return {
    event: 'expiring',
    kind: item.kind,
    id: item.id,
    name: item.name,
    expires_at: item.expiresAt.toISOString(),
    seconds_left: item.secondsLeft,
    threshold_days: thresholdDays,
  };
}
