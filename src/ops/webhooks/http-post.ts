/** The HTTP sender: one signed POST of a delivery to its URL. */
import http from 'node:http';
import https from 'node:https';
import { signBody } from './signature.js';

/** What one POST sends: the body, to this URL, under this delivery id. */
export interface Delivery {
  url: URL;
  body: string;
  id: string;
}

export interface PostResult {
  /** The answer's status, or null when no answer came. */
  status: number | null;
  /** Why no answer came (an error code or name). */
  error?: string;
}

/** One POST: the status, or null and why when no answer came. Never throws. */
export function postDelivery(delivery: Delivery, secret: Buffer, timeoutMs: number): Promise<PostResult> {
  const body = Buffer.from(delivery.body, 'utf8');
  const transport = delivery.url.protocol === 'https:' ? https : http;
  return new Promise((done) => {
    const request = transport.request(delivery.url, {
      method: 'POST',
      // A fresh connection each time: deliveries are rare, and no idle socket outlives stop().
      agent: false,
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        'content-type': 'application/json',
        'content-length': String(body.length),
        'user-agent': 'certmaster-webhooks',
        'certmaster-signature': signBody(secret, body),
        'certmaster-delivery': delivery.id,
      },
    });
    request.on('response', (response) => {
      // Only the status matters; drain the body so the socket closes cleanly.
      response.on('error', () => undefined);
      response.resume();
      done({ status: response.statusCode ?? null });
    });
    request.on('error', (e: NodeJS.ErrnoException) => done({ status: null, error: e.code ?? e.name }));
    request.end(body);
  });
}
