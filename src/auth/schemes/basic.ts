/** The Basic scheme, RFC 7617. */
import { quoteString } from './authorization.js';

/** 3 KiB of "user-id:password" once decoded; far beyond any real pair, well within the header bound. */
export const MAX_BASIC_TOKEN_LENGTH = 4096;

export interface BasicCredentials {
  userId: string;
  password: string;
}

/** Canonical RFC 4648 §4 base64 with padding; the canonical check below also rejects non-zero pad bits. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const CONTROL = /\p{Cc}/u;

/** Decodes the token68 of `Authorization: Basic <token68>`. Never throws. */
export function parseBasicCredentials(token68: string | null): BasicCredentials | { malformed: string } {
  if (token68 === null || token68 === '') {
    return { malformed: 'Basic credentials need a base64-encoded "user-id:password" after the scheme name' };
  }
  if (token68.length > MAX_BASIC_TOKEN_LENGTH) {
    return { malformed: `Basic credentials are longer than ${MAX_BASIC_TOKEN_LENGTH} characters` };
  }
  if (!BASE64.test(token68)) return { malformed: 'Basic credentials are not valid base64' };
  const bytes = Buffer.from(token68, 'base64');
  if (bytes.toString('base64') !== token68)
    return { malformed: 'Basic credentials are not canonical base64' };
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return { malformed: 'Basic credentials are not valid UTF-8 (RFC 7617 §2.1: charset="UTF-8")' };
  }
  // The user-id cannot contain ':' (RFC 7617 §2), so the first colon is the separator and the
  // password may contain colons.
  const colon = text.indexOf(':');
  if (colon < 0) return { malformed: 'Basic credentials must be "user-id:password" (no colon found)' };
  const userId = text.slice(0, colon);
  const password = text.slice(colon + 1);
  // RFC 7617 §2: "The user-id and password MUST NOT contain any control characters".
  if (CONTROL.test(userId)) return { malformed: 'the Basic user-id contains control characters' };
  if (CONTROL.test(password)) return { malformed: 'the Basic password contains control characters' };
  return { userId, password };
}

/** RFC 7617 §2.1: announcing UTF-8 is the only charset allowed, and tells clients not to send Latin-1. */
export function basicChallenge(realm: string): string {
  return `Basic realm=${quoteString(realm)}, charset="UTF-8"`;
}
