/** How explain writes: printable text, shell words, times, and where commands point. */
import type { AuditRecord } from '../../audit/types.js';
import { describeBetween } from '../../util/durations.js';
import { printable as printableText } from '../../util/terminal-text.js';

/** How the story's commands say where the CA is: `--data DIR` (local) or `--server URL`. */
export interface CommandContext {
  /** The data directory, when known: account commands only work on it. */
  dataDir: string | null;
  /** The server URL, when the operator works remotely. */
  server: string | null;
}

/** What an operator should understand and do about one record. */
export interface Advice {
  /** What happened, in operator terms (may name what the caller was not told). */
  meaning: string;
  /** What to do next. */
  fix: string;
  /** The command that does it, when there is one. */
  command: string | null;
}

/** One request's story (story.ts, or flood-story.ts for a request folded into a flood summary). */
export interface RequestStory {
  requestId: string;
  /** The record the outcome rests on: the last refusal, else the last record. */
  decisive: AuditRecord;
  records: AuditRecord[];
  /** The story, sentence by sentence. */
  sentences: string[];
  advice: Advice | null;
}

/** Unsafe characters replaced, length bounded: nothing a client sent may drive the terminal. */
export function printable(value: string, max = 300): string {
  return printableText(value, max);
}

/** A word as a POSIX shell reads it: bare when harmless, else single-quoted. */
export function shellWord(value: string): string {
  const clean = printable(value, 256);
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(clean) ? clean : `'${clean.replace(/'/g, `'\\''`)}'`;
}

export function localTarget(ctx: CommandContext): string {
  return `--data ${ctx.dataDir === null ? 'DIR' : shellWord(ctx.dataDir)}`;
}

export function anyTarget(ctx: CommandContext): string {
  if (ctx.dataDir !== null) return `--data ${shellWord(ctx.dataDir)}`;
  return `--server ${ctx.server === null ? 'URL' : shellWord(ctx.server)}`;
}

export function serverArg(ctx: CommandContext): string {
  return ctx.server === null ? 'URL' : shellWord(ctx.server);
}

const METHODS: Record<string, string> = {
  anonymous: 'no credentials',
  basic: 'HTTP Basic credentials (user name and password)',
  digest: 'an HTTP Digest response',
  bearer: 'a Bearer token',
  access_token: 'an OAuth access token',
  api_token: 'an API token',
  enrollment_token: 'an enrollment token',
  client_certificate: 'a client certificate',
  password: 'a user name and password (OAuth password grant)',
  client_credentials: 'a client id and secret',
  refresh_token: 'a refresh token',
  local: 'the local command line',
};

export function describeMethod(method: string | null): string | null {
  if (method === null) return null;
  return METHODS[method] ?? `credentials of the kind "${printable(method, 40)}"`;
}

export function when(at: Date): string {
  return at.toISOString();
}

export function ago(from: Date, now: Date): string {
  return describeBetween(from, now);
}

/** Auth refusals name the route ("GET /v1/whoami"); RA records name the host. */
export function isRoute(target: string): boolean {
  return target.startsWith('/') || /^[A-Z]+ \//.test(target);
}

export function stringDetail(record: AuditRecord, key: string): string | null {
  const value = record.details[key];
  return typeof value === 'string' ? value : null;
}
