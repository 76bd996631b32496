/**
 * Opaque refresh tokens, rotated on every use with reuse detection (RFC 9700 §4.14.2): each use
 * returns a new token of the same family, and presenting a token that was already exchanged (or
 * revoked) revokes the whole family, the access tokens carrying it as `sid` included. Whichever of
 * the thief and the victim comes second then has to sign in again.
 *
 * The price: two refreshes racing with one token (the CLI started twice at once) look like reuse.
 * That is the RFC's trade-off and we accept it.
 */
import type { RefusalCause } from '../../contract/refusal-cause.js';
import type { AuthStore, RefreshTokenRecord } from '../../store/identities/auth-store.js';
import type { Clock } from '../../types.js';
import { OAuthError } from './oauth-error.js';
import {
  newSecretToken,
  REFRESH_TOKEN_PREFIX,
  randomId,
  secretTokenPrefix,
  sha256Hex,
} from './token-secrets.js';

export type RefreshTokenStore = Pick<
  AuthStore,
  'createRefreshToken' | 'findRefreshTokenBySecretHash' | 'markRefreshTokenUsed' | 'revokeRefreshFamily'
>;

export interface RefreshTokenOptions {
  store: RefreshTokenStore;
  clock: Clock;
  /** How long one token lives unused (an idle sign-in ends after this). Default 14 days. */
  ttlSeconds?: number;
  /** The absolute limit of a family, however often it is refreshed. Default 30 days. */
  familyLifetimeSeconds?: number;
}

export interface IssuedRefreshToken {
  /** The secret: returned to the client once, never stored. */
  token: string;
  record: RefreshTokenRecord;
}

export const DEFAULT_REFRESH_TTL_SECONDS = 14 * 86400;
export const DEFAULT_FAMILY_LIFETIME_SECONDS = 30 * 86400;

const LOGIN_HINT = 'run `certmaster login` to sign in again';
/**
 * A family id records when the family began ("rtf_" + base36 seconds + "_" + random), so the absolute
 * lifetime holds without another table: every token of a family expires by start + lifetime.
 */
const FAMILY_PATTERN = /^rtf_([0-9a-z]{1,12})_[a-z2-7]{16}$/;

export class RefreshTokens {
  private readonly ttlSeconds: number;
  private readonly familyLifetimeSeconds: number;

  constructor(private readonly opts: RefreshTokenOptions) {
    this.ttlSeconds = positiveInteger('ttlSeconds', opts.ttlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS);
    this.familyLifetimeSeconds = positiveInteger(
      'familyLifetimeSeconds',
      opts.familyLifetimeSeconds ?? DEFAULT_FAMILY_LIFETIME_SECONDS,
    );
  }

  /** A new token; without `familyId` it starts a new family (a new sign-in). */
  async issue(request: {
    subject: string;
    clientId: string;
    scopes: readonly string[];
    familyId?: string;
  }): Promise<IssuedRefreshToken> {
    const now = this.opts.clock.now();
    const familyId = request.familyId ?? newFamilyId(now);
    const familyStart = familyStartOf(familyId);
    if (familyStart === null) throw new RangeError(`not a refresh family id: ${familyId}`);
    const familyEnd = familyStart.getTime() + this.familyLifetimeSeconds * 1000;
    const token = newSecretToken(REFRESH_TOKEN_PREFIX);
    const record: RefreshTokenRecord = {
      id: randomId('rtk_', 16),
      familyId,
      secretHash: sha256Hex(token),
      subject: request.subject,
      clientId: request.clientId,
      scopes: [...request.scopes],
      issuedAt: now,
      expiresAt: new Date(Math.min(now.getTime() + this.ttlSeconds * 1000, familyEnd)),
      usedAt: null,
      revokedAt: null,
    };
    await this.opts.store.createRefreshToken(record);
    return { token, record };
  }

  /**
   * Exchanges `presented` for a new token of the same family and scopes (RFC 6749 §6: the new
   * refresh token has the scope of the old). `authorize` runs before the old token is spent, so a
   * refusal there (account disabled, scope too wide) leaves the client its token.
   * Throws OAuthError invalid_grant for an unknown, expired, reused or foreign token.
   */
  async rotate(
    presented: string,
    clientId: string,
    authorize: (record: RefreshTokenRecord) => Promise<void> = async () => {},
  ): Promise<IssuedRefreshToken & { previous: RefreshTokenRecord }> {
    const now = this.opts.clock.now();
    const record = await this.find(presented);
    if (record === null) {
      throw grantError('the refresh token is not valid', 'token_invalid', { code: 'refresh_token_unknown' });
    }
    // Reuse is checked first: a spent token presented by anyone, for any client, is a leak.
    if (record.usedAt !== null || record.revokedAt !== null) {
      throw await this.reuse(record, now);
    }
    if (record.clientId !== clientId) {
      throw grantError('the refresh token was not issued to this client', 'token_invalid', {
        code: 'refresh_token_foreign',
        token: record.id,
        issuedTo: record.clientId,
        presentedBy: clientId,
      });
    }
    if (!this.isActive(record, now)) {
      throw grantError('the refresh token has expired', 'token_expired', {
        code: 'refresh_token_expired',
        token: record.id,
        family: record.familyId,
        at: this.expiryOf(record).toISOString(),
      });
    }
    await authorize(record);
    if (!(await this.opts.store.markRefreshTokenUsed(record.id, now))) {
      // Another request spent it between our read and our write: that too is reuse.
      throw await this.reuse(record, now);
    }
    const next = await this.issue({
      subject: record.subject,
      clientId: record.clientId,
      scopes: record.scopes,
      familyId: record.familyId,
    });
    return { ...next, previous: { ...record, usedAt: now } };
  }

  /** The record of a well-formed refresh token, in whatever state; null when there is none. */
  async find(presented: string): Promise<RefreshTokenRecord | null> {
    if (secretTokenPrefix(presented) !== REFRESH_TOKEN_PREFIX) return null;
    return this.opts.store.findRefreshTokenBySecretHash(sha256Hex(presented));
  }

  /** Unused, unrevoked, and neither it nor its family past its lifetime. */
  isActive(record: RefreshTokenRecord, now: Date = this.opts.clock.now()): boolean {
    return (
      record.usedAt === null && record.revokedAt === null && now.getTime() < this.expiryOf(record).getTime()
    );
  }

  /** When it stops working: its own expiry or its family's end, whichever is first. */
  expiryOf(record: RefreshTokenRecord): Date {
    const start = familyStartOf(record.familyId);
    // An id we cannot read gives no lifetime at all: fail closed.
    if (start === null) return new Date(0);
    return new Date(
      Math.min(record.expiresAt.getTime(), start.getTime() + this.familyLifetimeSeconds * 1000),
    );
  }

  /** Revokes every token of the family and, through `sid`, the access tokens issued from it. */
  async revokeFamily(familyId: string): Promise<number> {
    return this.opts.store.revokeRefreshFamily(familyId, this.opts.clock.now());
  }

  private async reuse(record: RefreshTokenRecord, now: Date): Promise<OAuthError> {
    const revoked = await this.opts.store.revokeRefreshFamily(record.familyId, now);
    // Only a second use of a rotated token is the RFC 9700 §4.14 theft signal; a token revoked by
    // a logout or an operator is just over, and saying "it may have leaked" would alarm for nothing.
    const usedTwice = record.usedAt !== null;
    return new OAuthError(
      'invalid_grant',
      usedTwice
        ? 'the refresh token was already used; every token of this sign-in is now revoked'
        : 'this sign-in has ended (logged out or revoked)',
      usedTwice ? `${LOGIN_HINT}; if you did not use this token twice, it may have leaked` : LOGIN_HINT,
      {
        code: 'refresh_token_reused',
        token: record.id,
        family: record.familyId,
        usedAt: record.usedAt?.toISOString() ?? null,
        revokedAt: record.usedAt === null ? (record.revokedAt ?? now).toISOString() : null,
        revokedCount: revoked,
      },
      { reason: 'token_revoked' },
    );
  }
}

function grantError(
  description: string,
  reason: 'token_invalid' | 'token_expired',
  cause: RefusalCause,
): OAuthError {
  return new OAuthError('invalid_grant', description, LOGIN_HINT, cause, { reason });
}

function newFamilyId(start: Date): string {
  return randomId(`rtf_${Math.floor(start.getTime() / 1000).toString(36)}_`, 16);
}

function familyStartOf(familyId: string): Date | null {
  const match = FAMILY_PATTERN.exec(familyId);
  return match?.[1] === undefined ? null : new Date(Number.parseInt(match[1], 36) * 1000);
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}
