/**
 * Long-lived opaque tokens an operator creates: API tokens ("cmat_...") act as their owner with a
 * subset of its scopes; enrollment tokens ("cmet_...") let a host enroll names matching one pattern,
 * a limited number of times. The prefixes let secret scanners find leaked ones; the store keeps only
 * their SHA-256, so lookups are by hash and no secret is ever compared.
 */
import type { RefusalCause } from '../../contract/refusal-cause.js';
import { AutosignPatternError, parseAutosign } from '../../domain/autosign.js';
import { type AuthStore, DuplicateError, type TokenRecord } from '../../store/identities/auth-store.js';
import type { Clock, Principal } from '../../types.js';
import { AuthFailure } from '../failure.js';
import { isScope, ROLE_SCOPES, type Scope } from '../scopes.js';
import {
  API_TOKEN_PREFIX,
  ENROLLMENT_TOKEN_PREFIX,
  newSecretToken,
  randomId,
  secretTokenPrefix,
  sha256Hex,
} from './token-secrets.js';

export type OpaqueTokenStore = Pick<
  AuthStore,
  'createToken' | 'findTokenBySecretHash' | 'getUser' | 'touchToken'
>;

export interface CreateTokenRequest {
  kind: TokenRecord['kind'];
  /** The account creating it; API tokens act as this account. */
  owner: string;
  /** API tokens: a non-empty subset of the owner's scopes. Enrollment tokens always get requests:submit. */
  scopes?: readonly string[];
  /** Enrollment tokens: one name pattern as in ra.autosign ("*.web.example.com" or an exact name). */
  namePattern?: string | null;
  /** Enrollment tokens: how many requests it may submit; null or absent means unlimited. */
  uses?: number | null;
  /** Null or absent: no expiry. */
  ttlSeconds?: number | null;
  /** The sign-in it is minted from: revoking that refresh family revokes the token. */
  familyId?: string | null;
  description?: string;
}

export interface CreatedToken {
  /** The secret: show it once, it is not stored. */
  token: string;
  record: TokenRecord;
}

/** Thrown by `create` for a request that cannot make a sensible token; the message says why. */
export class TokenRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenRequestError';
  }
}

const ENROLLMENT_SCOPES: Scope[] = ['requests:submit'];
const MAX_TTL_SECONDS = 10 * 366 * 86400;
const MAX_USES = 1_000_000;
const MAX_DESCRIPTION_CHARS = 200;
const NEW_TOKEN_HINT = 'ask an operator for a new token (`certmaster token create`)';

export class OpaqueTokens {
  constructor(private readonly opts: { store: OpaqueTokenStore; clock: Clock }) {}

  async create(request: CreateTokenRequest): Promise<CreatedToken> {
    const now = this.opts.clock.now();
    const fields = await this.validate(request);
    const ttl = request.ttlSeconds ?? null;
    if (ttl !== null && (!Number.isInteger(ttl) || ttl <= 0 || ttl > MAX_TTL_SECONDS)) {
      throw new TokenRequestError(
        `the lifetime must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}`,
      );
    }
    const description = request.description ?? '';
    if (description.length > MAX_DESCRIPTION_CHARS || /\p{Cc}/u.test(description)) {
      throw new TokenRequestError(
        `the description must be at most ${MAX_DESCRIPTION_CHARS} characters without control characters`,
      );
    }
    const prefix = request.kind === 'api' ? API_TOKEN_PREFIX : ENROLLMENT_TOKEN_PREFIX;
    // Ids are 50 random bits: a clash is unlikely but cheap to survive.
    for (let attempt = 0; ; attempt++) {
      const token = newSecretToken(prefix);
      const record: TokenRecord = {
        id: randomId('tok_', 10),
        kind: request.kind,
        secretHash: sha256Hex(token),
        owner: request.owner,
        ...fields,
        description,
        createdAt: now,
        expiresAt: ttl === null ? null : new Date(now.getTime() + ttl * 1000),
        lastUsedAt: null,
        revokedAt: null,
        familyId: request.familyId ?? null,
      };
      try {
        await this.opts.store.createToken(record);
        return { token, record };
      } catch (error) {
        if (!(error instanceof DuplicateError) || attempt >= 2) throw error;
      }
    }
  }

  /** The caller a valid token stands for (and records its use); AuthFailure (scheme bearer) otherwise. */
  async authenticate(token: string): Promise<Principal> {
    const { record, principal } = await this.inspect(token);
    await this.opts.store.touchToken(record.id, this.opts.clock.now());
    return principal;
  }

  /** The Authenticator's TokenVerifier interface: the same as `authenticate`. */
  verify(token: string): Promise<Principal> {
    return this.authenticate(token);
  }

  /** The record of a well-formed token in whatever state (for revocation), or null. */
  async find(token: string): Promise<TokenRecord | null> {
    const prefix = secretTokenPrefix(token);
    if (prefix !== API_TOKEN_PREFIX && prefix !== ENROLLMENT_TOKEN_PREFIX) return null;
    const record = await this.opts.store.findTokenBySecretHash(sha256Hex(token));
    return record !== null && record.kind === kindOf(prefix) ? record : null;
  }

  /** Every check `authenticate` makes, without recording a use (introspection). */
  async inspect(token: string): Promise<{ record: TokenRecord; principal: Principal }> {
    const record = await this.find(token);
    if (record === null) {
      throw failure('token_invalid', 'the token is not valid', NEW_TOKEN_HINT, { code: 'token_unknown' });
    }
    const now = this.opts.clock.now();
    if (record.revokedAt !== null) {
      throw failure('token_revoked', 'the token has been revoked', NEW_TOKEN_HINT, {
        code: 'token_revoked',
        kind: 'opaque',
        token: record.id,
        at: record.revokedAt.toISOString(),
      });
    }
    if (record.expiresAt !== null && record.expiresAt.getTime() <= now.getTime()) {
      throw failure(
        'token_expired',
        `the token expired at ${record.expiresAt.toISOString()}`,
        NEW_TOKEN_HINT,
        { code: 'token_expired', kind: 'opaque', token: record.id, at: record.expiresAt.toISOString() },
      );
    }
    const tokenRef = {
      id: record.id,
      issuedAt: record.createdAt,
      expiresAt: record.expiresAt,
      // A token made with a sign-in carries it on, so what it makes in turn belongs to that sign-in too.
      ...(record.familyId ? { familyId: record.familyId } : {}),
    };
    if (record.kind === 'enrollment') {
      if (record.usesLeft !== null && record.usesLeft <= 0) {
        throw failure('enrollment_token_used_up', 'the enrollment token has no uses left', NEW_TOKEN_HINT, {
          code: 'enrollment_token_used_up',
          token: record.id,
        });
      }
      return {
        record,
        principal: {
          name: `enrollment:${record.id}`,
          anonymous: false,
          roles: [],
          scopes: [...ENROLLMENT_SCOPES],
          method: 'enrollment_token',
          token: tokenRef,
          namePatterns: record.namePattern === null ? [] : [record.namePattern],
        },
      };
    }
    const owner = await this.opts.store.getUser(record.owner);
    if (owner === null) {
      throw failure('token_revoked', 'the account this token acts for no longer exists', NEW_TOKEN_HINT, {
        code: 'token_owner_removed',
        token: record.id,
        owner: record.owner,
      });
    }
    if (owner.disabled) {
      throw failure(
        'account_disabled',
        'the account this token acts for is disabled',
        'ask an administrator to enable the account (`certmaster user enable`)',
        { code: 'token_owner_disabled', token: record.id, owner: record.owner },
      );
    }
    // The owner's role may have shrunk since the token was made: it never grants more than the role.
    const allowed: readonly string[] = ROLE_SCOPES[owner.role];
    return {
      record,
      principal: {
        name: owner.name,
        anonymous: false,
        roles: [owner.role],
        scopes: record.scopes.filter((scope) => allowed.includes(scope)),
        method: 'api_token',
        token: tokenRef,
        ...(owner.namePatterns.length > 0 ? { namePatterns: [...owner.namePatterns] } : {}),
      },
    };
  }

  private async validate(
    request: CreateTokenRequest,
  ): Promise<Pick<TokenRecord, 'scopes' | 'namePattern' | 'usesLeft'>> {
    if (request.kind === 'enrollment') {
      const pattern = (request.namePattern ?? '').trim();
      try {
        const policy = parseAutosign(pattern);
        if (policy.mode !== 'patterns' || policy.patterns.length !== 1) {
          throw new TokenRequestError(
            'an enrollment token takes exactly one name pattern, e.g. *.web.example.com',
          );
        }
      } catch (error) {
        if (error instanceof AutosignPatternError) {
          throw new TokenRequestError(`the name pattern is not valid: ${error.message}`);
        }
        throw error;
      }
      const uses = request.uses ?? null;
      if (uses !== null && (!Number.isInteger(uses) || uses < 1 || uses > MAX_USES)) {
        throw new TokenRequestError(`uses must be a whole number from 1 to ${MAX_USES}, or unlimited`);
      }
      return { scopes: [...ENROLLMENT_SCOPES], namePattern: pattern, usesLeft: uses };
    }
    if (request.namePattern != null || request.uses != null) {
      throw new TokenRequestError('name patterns and uses belong to enrollment tokens, not API tokens');
    }
    const scopes = [...new Set(request.scopes ?? [])];
    if (scopes.length === 0) throw new TokenRequestError('an API token needs at least one scope');
    const unknown = scopes.filter((scope) => !isScope(scope));
    if (unknown.length > 0) throw new TokenRequestError(`unknown scopes: ${unknown.join(', ')}`);
    const owner = await this.opts.store.getUser(request.owner);
    if (owner === null) throw new TokenRequestError(`there is no account ${request.owner}`);
    const allowed: readonly string[] = ROLE_SCOPES[owner.role];
    const beyond = scopes.filter((scope) => !allowed.includes(scope));
    if (beyond.length > 0) {
      throw new TokenRequestError(
        `the ${owner.role} role of ${owner.name} does not grant: ${beyond.join(', ')}`,
      );
    }
    return { scopes, namePattern: null, usesLeft: null };
  }
}

function kindOf(prefix: typeof API_TOKEN_PREFIX | typeof ENROLLMENT_TOKEN_PREFIX): TokenRecord['kind'] {
  return prefix === API_TOKEN_PREFIX ? 'api' : 'enrollment';
}

function failure(
  reason:
    | 'token_invalid'
    | 'token_revoked'
    | 'token_expired'
    | 'account_disabled'
    | 'enrollment_token_used_up',
  detail: string,
  hint: string,
  internalCause: RefusalCause,
): AuthFailure {
  return new AuthFailure(reason, detail, hint, internalCause, { scheme: 'bearer' });
}
