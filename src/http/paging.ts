/**
 * Cursor paging for the listing routes: `limit` items per page, newest first, and when more follow, a
 * `next` cursor in the body and `Link: <...>; rel="next"` (RFC 8288 §3) naming the same listing with
 * that cursor. The cursor is opaque to clients: where the page stopped (time and key, see PageKey).
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PageKey } from '../domain/page-key.js';
import { PolicyFailure } from '../ra/failure.js';

export const DEFAULT_PAGE_SIZE = 1000;
export const MAX_PAGE_SIZE = 10_000;

/** The query parameters every paged listing takes (TypeBox properties of the query string's schema). */
export const PAGE_QUERY = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_-]+$' })),
};

/** The `next` member of a paged answer (JSON schema). */
export const NEXT_PROPERTY = { next: { type: ['string', 'null'] } } as const;

export function encodeCursor(key: PageKey): string {
  return Buffer.from(JSON.stringify([key.at.getTime(), key.key]), 'utf8').toString('base64url');
}

/** The page key in a cursor; one this server did not make is refused as an argument error. */
export function decodeCursor(cursor: string): PageKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (
    Array.isArray(parsed) &&
    parsed.length === 2 &&
    Number.isSafeInteger(parsed[0]) &&
    typeof parsed[1] === 'string' &&
    parsed[1].length <= 128
  ) {
    return { at: new Date(parsed[0] as number), key: parsed[1] };
  }
  throw new PolicyFailure(
    'invalid_argument',
    'the cursor is not one this server gave, or it was cut short',
    'start the listing again without cursor, then pass the `next` value of each answer as it is',
    {
      field: 'cursor',
      facts: { code: 'argument_invalid', argument: 'cursor', why: 'not one this server gave, or cut short' },
    },
  );
}

/**
 * Asks for one item more than the page holds to learn whether another page follows; answers the page
 * and, when one follows, sets the Link header and returns the cursor for the body's `next`.
 */
export async function onePage<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  query: { limit?: number; cursor?: string },
  keyOf: (item: T) => PageKey,
  fetch: (limit: number, after: PageKey | undefined) => Promise<T[]>,
): Promise<{ items: T[]; next: string | null }> {
  const limit = query.limit ?? DEFAULT_PAGE_SIZE;
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const fetched = await fetch(limit + 1, after);
  const items = fetched.slice(0, limit);
  const last = items[items.length - 1];
  if (fetched.length <= limit || last === undefined) return { items, next: null };
  const next = encodeCursor(keyOf(last));
  const url = new URL(request.url, 'http://certmaster.invalid');
  url.searchParams.set('cursor', next);
  reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
  return { items, next };
}
