/**
 * Audit events: one per decision, keyed by the request id the caller saw. Typed so an operator can
 * reconstruct every authentication, refusal and issuance (as Boulder's audit structs do). Never a
 * secret: tokens appear by id only.
 */
export const AUDIT_KINDS = [
  'auth.attempt',
  'authz.refused',
  /** A refusal decided at the front door: a route, schema, body size or media type (400, 404, 413, 415, 500). */
  'http.refused',
  'request.submit',
  'request.approve',
  'request.reject',
  'certificate.revoke',
  /** A host renewed its certificate over mutual TLS (POST /v1/renewals). */
  'certificate.renew',
  'host.clean',
  'user.change',
  'token.change',
  'oauth.grant',
  'oauth.revoke',
  'oauth.introspect',
  'config.reload',
  'acme.account',
  'acme.order',
  'acme.challenge',
  'acme.refused',
  /** Written by the readiness check, at most every few seconds, only after an audit write failed: can it write again? */
  'audit.probe',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export type AuditOutcome = 'success' | 'failure';

/** Vault-style phases: an action is recorded before it happens (fail closed) and its result after. */
export type AuditPhase = 'request' | 'response' | 'decision';

export interface AuditEvent {
  at: Date;
  /** The id in the caller's X-Request-Id and problem body; null for local CLI actions (they get a generated id). */
  requestId: string;
  kind: AuditKind;
  phase: AuditPhase;
  outcome: AuditOutcome;
  /** Reason code from the refusal contract (or the RA's), when refused. */
  reason: string | null;
  /** Who was authenticated ("anonymous" when nobody), or null when authentication failed. */
  principal: string | null;
  /** Who the caller claimed to be (may be an unknown name), for failed attempts. */
  claimedName: string | null;
  /** basic, digest, bearer, access_token, api_token, enrollment_token, local... */
  method: string | null;
  /** Token id or jti: never the token itself. */
  credentialId: string | null;
  clientAddress: string | null;
  /** The precise internal cause, for operators only ("unknown user alice", "password mismatch"). */
  cause: string | null;
  /** What the caller was told: status, detail and hint. */
  told: { status: number; detail: string; hint: string } | null;
  /** What was acted on: a CN, serial, user, token id, or the HTTP route. */
  target: string | null;
  /** Small extra facts (names asked for, serial issued, route...). No secrets. */
  details: Record<string, unknown>;
}

/** An event as stored: numbered and hash-chained to the one before. */
export interface AuditRecord extends AuditEvent {
  seq: number;
  prevHash: string;
  hash: string;
}

/** A signed statement that the chain up to `seq` had head `hash` (also what replaces pruned records). */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: Date;
  /** Base64url Ed25519 signature over `checkpointMessage(seq, hash, at)`. */
  signature: string;
  /** Records before this seq were pruned; the checkpoint vouches for them. */
  prunedBefore: number | null;
  /** The public key that signed, as a JWK thumbprint or "kid", so verification picks the right key. */
  keyId: string;
}

/**
 * What giving pruned records' space back did: PostgreSQL's autovacuum does it by itself; SQLite
 * vacuums incrementally, after switching that on once (`switchedOn`) for a database made before.
 */
export type SpaceReclaim =
  | { engine: 'postgres' }
  | {
      engine: 'sqlite';
      switchedOn: boolean;
      bytesBefore: number;
      bytesAfter: number;
      /** Why the space could not be returned, or null. */
      failed: string | null;
    };

export interface AuditFilter {
  since?: Date;
  until?: Date;
  principal?: string;
  requestId?: string;
  outcome?: AuditOutcome;
  reason?: string;
  kind?: AuditKind;
  /** Records after this seq (for --follow, and the next page oldest first). */
  afterSeq?: number;
  /** Records before this seq (the next page newest first). */
  beforeSeq?: number;
  /** CN, serial, user or token acted on. */
  target?: string;
  limit?: number;
}
