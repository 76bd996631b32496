/**
 * Request ids that carry their time and a tag of their source, so that `explain ID` finds the flood
 * summary a refusal was folded into (the summary keeps a count, the window and the source, not the
 * id). Layout, base64url of 21 bytes (28 characters):
 *
 *   6 bytes  milliseconds since 1970 (big-endian): the window
 *   3 bytes  the first bytes of SHA-256 of the client address: which summary of that window
 *  12 bytes  random: the id stays as unguessable as before (96 bits)
 *
 * The tag tells nothing a reader of the id could not learn from the record itself (the address is
 * recorded next to it), and the caller knows its own address. Older ids (16 characters, random only)
 * are still accepted everywhere ids are read; they simply carry no time.
 */
import { hash } from 'node:crypto';
import { fillRandom } from './random-pool.js';

const TIME_BYTES = 6;
const TAG_BYTES = 3;
const RANDOM_BYTES = 12;
const ID_BYTES = TIME_BYTES + TAG_BYTES + RANDOM_BYTES;
export const TIMED_REQUEST_ID_LENGTH = Math.ceil((ID_BYTES * 4) / 3);
/** Times outside this range are not a timed id's: such an id is an old one, or made up. */
const EARLIEST = Date.UTC(2020, 0, 1);

/**
 * Tags of recent addresses: every request mints an id, and a busy server sees few addresses. Bounded
 * (a caller cannot make it grow past this: it is emptied when full), and it holds nothing secret.
 */
const TAG_CACHE_ENTRIES = 1024;
const tagCache = new Map<string, Buffer>();

function tagBytes(address: string): Buffer {
  let tag = tagCache.get(address);
  if (tag === undefined) {
    tag = hash('sha256', address, 'buffer').subarray(0, TAG_BYTES);
    if (tagCache.size >= TAG_CACHE_ENTRIES) tagCache.clear();
    tagCache.set(address, tag);
  }
  return tag;
}

/** The source tag of a client address, as stored in an id (hex). */
export function sourceTag(address: string): string {
  return tagBytes(address).toString('hex');
}

export function mintRequestId(nowMs: number, clientAddress: string | undefined): string {
  const id = Buffer.alloc(ID_BYTES);
  id.writeUIntBE(Math.max(0, Math.floor(nowMs)), 0, TIME_BYTES);
  tagBytes(clientAddress ?? '').copy(id, TIME_BYTES);
  fillRandom(id, TIME_BYTES + TAG_BYTES, RANDOM_BYTES);
  return id.toString('base64url');
}

export interface RequestIdFacts {
  at: Date;
  /** Hex; compare with sourceTag(address). */
  sourceTag: string;
}

/**
 * The time and source tag of a timed id; null for an id of the older shape (or anything else). `now`
 * bounds the time: an id from the future by more than a day is not one of ours.
 */
export function readRequestId(id: string, nowMs: number = Date.now()): RequestIdFacts | null {
  if (id.length !== TIMED_REQUEST_ID_LENGTH || !/^[A-Za-z0-9_-]+$/.test(id)) return null;
  const bytes = Buffer.from(id, 'base64url');
  if (bytes.length !== ID_BYTES) return null;
  const at = bytes.readUIntBE(0, TIME_BYTES);
  if (at < EARLIEST || at > nowMs + 86_400_000) return null;
  return {
    at: new Date(at),
    sourceTag: bytes.subarray(TIME_BYTES, TIME_BYTES + TAG_BYTES).toString('hex'),
  };
}
