/** The shape of one row of the refusal table (refusals.ts). */

/** The layer that decides the refusal. */
export type RefusalLayer = 'auth' | 'ra' | 'http' | 'oauth' | 'audit' | 'acme';

export interface RefusalEntry {
  readonly status: number;
  /** The problem+json `title` (RFC 9457 §3.1.4). */
  readonly title: string;
  /** What the reason means, for the reference documentation. */
  readonly meaning: string;
  /** The OAuth error code (RFC 6749 §5.2) the token endpoint answers with, when it raises this reason. */
  readonly oauthError: string | null;
  readonly layer: RefusalLayer;
  /** What the caller can do about it, in general; `certmaster explain ID` gives the exact fix. */
  readonly remedy: string;
  /** Set when no code path raises the reason yet, naming the work that will. */
  readonly reservedFor?: string;
}
