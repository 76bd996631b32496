/** How a delivery is signed, so a receiver can tell it came from this server and was not altered. */
import { createHmac } from 'node:crypto';

/** The Certmaster-Signature value: "sha256=" and the hex HMAC-SHA256 of the exact body bytes. */
export function signBody(secret: Buffer, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}
