/**
 * JWT access tokens (RFC 9068), signed with EdDSA by the key ring, verified the way RFC 8725 asks:
 * the algorithm, `typ`, issuer and audience are pinned, `exp` and `nbf` are checked against the
 * injected clock, and a denylisted jti or a revoked refresh family (`sid`) makes a token revoked.
 *
 * Clock tolerance is zero: tokens are issued and verified by certmaster replicas whose clocks are
 * kept in sync (NTP), and tokens carry no `nbf` unless the issuer asks for one, so a replica
 * running slightly behind never refuses a fresh token.
 */
import { hash } from 'node:crypto';
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';
import type { RefusalCause } from '../../contract/refusal-cause.js';
import type { AuthStore } from '../../store/identities/auth-store.js';
import { type Clock, type Principal, ROLES, type Role } from '../../types.js';
import { describeSeconds } from '../../util/durations.js';
import { pooledRandomBytes } from '../../util/random-pool.js';
import { AuthFailure } from '../failure.js';
import type { SigningKeyRing } from './keyring.js';

export const ACCESS_TOKEN_AUDIENCE = 'certmaster';
/** RFC 9068 §2.1: the media type "application/at+jwt", without its "application/" prefix. */
const ACCESS_TOKEN_TYP = 'at+jwt';
/** Our tokens are well under 2 KiB; refusing more bounds the work done on hostile input. */
export const MAX_ACCESS_TOKEN_CHARS = 8 * 1024;
const MAX_CLAIM_CHARS = 1024;

const REFRESH_HINT = 'refresh it with grant_type=refresh_token or run `certmaster login`';
const INVALID_HINT = 'run `certmaster login` for a new token, or check which server issued this one';

export interface AccessTokenRequest {
  /** Account name, or the client id for the client_credentials grant (RFC 9068 §2.2). */
  subject: string;
  clientId: string;
  scopes: readonly string[];
  roles: readonly Role[];
  /** The refresh family (password and refresh grants); revoking the family revokes the token. */
  familyId: string | null;
  ttlSeconds: number;
  /** Only when the token must not be used before a later time; omitted otherwise. */
  notBefore?: Date;
}

export interface IssuedAccessToken {
  token: string;
  jti: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** The claims of a token whose signature, issuer, audience, type and times were checked. */
export interface AccessTokenClaims {
  iss: string;
  aud: string;
  sub: string;
  client_id: string;
  scope: string;
  roles: Role[];
  iat: number;
  nbf: number | undefined;
  exp: number;
  jti: string;
  /** The refresh family, when issued from a password or refresh grant. */
  sid: string | null;
}

export interface AccessTokenOptions {
  keyring: SigningKeyRing;
  store: Pick<AuthStore, 'accessTokenRevokedAt'>;
  clock: Clock;
  /** The `iss` claim: the server's issuer identifier (RFC 8414 §2), e.g. "https://ca.example.com:8443". */
  issuer: string;
}

/** Thrown inside jose's key lookup; turned into token_invalid with the kid as the internal cause. */
class UnknownKeyError extends Error {
  constructor(readonly kid: string) {
    super(`unknown or removed signing key kid ${kid}`);
  }
}

/** Verified tokens remembered (by SHA-256 of the token, never the token itself). */
const VERIFIED_CACHE_ENTRIES = 10_000;

export class AccessTokens {
  private readonly verified = new Map<string, AccessTokenClaims>();

  constructor(private readonly opts: AccessTokenOptions) {}

  /** The `iss` of every token this issues and the only one it accepts. */
  get issuer(): string {
    return this.opts.issuer;
  }

  async issue(request: AccessTokenRequest): Promise<IssuedAccessToken> {
    if (!Number.isInteger(request.ttlSeconds) || request.ttlSeconds <= 0) {
      throw new RangeError('ttlSeconds must be a positive integer');
    }
    const { kid, privateKey } = this.opts.keyring.signingKey();
    const iat = Math.floor(this.opts.clock.now().getTime() / 1000);
    const exp = iat + request.ttlSeconds;
    const jti = pooledRandomBytes(16).toString('base64url');
    const claims: JWTPayload = {
      client_id: request.clientId,
      scope: request.scopes.join(' '),
      roles: [...request.roles],
      ...(request.familyId !== null ? { sid: request.familyId } : {}),
    };
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', kid, typ: ACCESS_TOKEN_TYP })
      .setIssuer(this.opts.issuer)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(request.subject)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .setJti(jti);
    if (request.notBefore !== undefined) jwt.setNotBefore(Math.floor(request.notBefore.getTime() / 1000));
    return {
      token: await jwt.sign(privateKey),
      jti,
      issuedAt: new Date(iat * 1000),
      expiresAt: new Date(exp * 1000),
    };
  }

  /** The caller a valid, unrevoked token stands for; AuthFailure (scheme bearer) otherwise. */
  async verify(token: string): Promise<Principal> {
    return principalOf(await this.check(token));
  }

  /** Every check, revocation included: the claims of a token that may be used now. */
  async check(token: string): Promise<AccessTokenClaims> {
    const claims = await this.verifySignedClaims(token);
    const revokedAt = await this.opts.store.accessTokenRevokedAt(claims.jti, claims.sid);
    if (revokedAt !== null) {
      throw new AuthFailure(
        'token_revoked',
        'the access token has been revoked',
        'run `certmaster login` to sign in again',
        {
          code: 'token_revoked',
          kind: 'access',
          token: claims.jti,
          at: revokedAt.toISOString(),
          ...(claims.sid ? { family: claims.sid } : {}),
        },
        { scheme: 'bearer', claimedName: claims.sub },
      );
    }
    return claims;
  }

  /** Signature, algorithm, type, issuer, audience and times, but not revocation (RFC 7009 needs this). */
  async verifySignedClaims(token: string): Promise<AccessTokenClaims> {
    if (token.length > MAX_ACCESS_TOKEN_CHARS) {
      throw invalid('the bearer token is too long to be a certmaster access token', {
        code: 'token_malformed',
        why: `token of ${token.length} chars`,
      });
    }
    const now = this.opts.clock.now();
    // A signature verified once stays verified: skip the Ed25519 check (the dearest part of a
    // Bearer request) while the token is inside its validity; times are re-checked on every use,
    // and revocation is checked by the caller every time. A signing key leaves the JWKS only after
    // every token it signed has expired, so a cached signature never outlives its key.
    const cacheKey = hash('sha256', token, 'base64url');
    const seconds = now.getTime() / 1000;
    const hit = this.verified.get(cacheKey);
    if (hit && seconds < hit.exp && (hit.nbf === undefined || seconds >= hit.nbf)) return hit;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header) => {
          const key =
            typeof header.kid === 'string' ? await this.opts.keyring.verificationKey(header.kid) : null;
          if (key === null) throw new UnknownKeyError(String(header.kid));
          return key;
        },
        {
          algorithms: ['EdDSA'],
          typ: ACCESS_TOKEN_TYP,
          issuer: this.opts.issuer,
          audience: ACCESS_TOKEN_AUDIENCE,
          currentDate: now,
          clockTolerance: 0,
          requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        },
      ));
    } catch (error) {
      throw verificationFailure(error, now);
    }
    const claims = claimsOf(payload);
    if (this.verified.size >= VERIFIED_CACHE_ENTRIES) {
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(cacheKey, claims);
    return claims;
  }
}

/** The Principal for verified claims (RFC 9068 §2.2: `sub` is the account, or the client for its own grant). */
export function principalOf(claims: AccessTokenClaims): Principal {
  return {
    name: claims.sub,
    anonymous: false,
    roles: claims.roles,
    scopes: claims.scope === '' ? [] : claims.scope.split(' '),
    method: 'access_token',
    token: {
      id: claims.jti,
      issuedAt: new Date(claims.iat * 1000),
      expiresAt: new Date(claims.exp * 1000),
      ...(claims.sid !== null ? { familyId: claims.sid } : {}),
    },
  };
}

function verificationFailure(error: unknown, now: Date): AuthFailure {
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (error instanceof errors.JWTExpired) {
    const exp = typeof error.payload.exp === 'number' ? error.payload.exp : nowSeconds;
    return new AuthFailure(
      'token_expired',
      `the access token expired ${describeSeconds(nowSeconds - exp)} ago (at ${isoOf(exp)})`,
      REFRESH_HINT,
      {
        code: 'token_expired',
        kind: 'access',
        token: String(error.payload.jti),
        at: isoOf(exp),
        subject: String(error.payload.sub),
      },
      { scheme: 'bearer', ...claimedName(error.payload) },
    );
  }
  if (
    error instanceof errors.JWTClaimValidationFailed &&
    error.claim === 'nbf' &&
    error.reason === 'check_failed'
  ) {
    const nbf = typeof error.payload.nbf === 'number' ? error.payload.nbf : nowSeconds;
    const ahead = describeSeconds(nbf - nowSeconds);
    return new AuthFailure(
      'token_not_yet_valid',
      `the access token is not valid for another ${ahead} (not before ${isoOf(nbf)})`,
      `check the clock: if the token was just issued, this server's or the issuer's clock is off by about ${ahead}; sync both with NTP`,
      { code: 'token_not_yet_valid', token: String(error.payload.jti), seconds: nbf - nowSeconds },
      { scheme: 'bearer', ...claimedName(error.payload) },
    );
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalid(`the access token's "${error.claim}" does not match this server`, {
      code: 'token_claim_mismatch',
      claim: error.claim,
      why: `${error.reason}: ${error.message}`,
    });
  }
  if (error instanceof UnknownKeyError) {
    return invalid('the access token was signed by a key this server does not know', {
      code: 'token_signing_key_unknown',
      kid: error.kid,
    });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid('the access token signature does not verify', { code: 'token_signature_invalid' });
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return invalid('the access token is not signed with EdDSA', {
      code: 'token_malformed',
      why: error.message,
    });
  }
  if (error instanceof errors.JOSEError) {
    return notAnAccessToken(`${error.code}: ${error.message}`);
  }
  return invalid('the bearer token is not a certmaster access token', {
    code: 'token_malformed',
    why: `unexpected: ${String(error)}`,
  });
}

/**
 * The refusal of a bearer token that is none of ours at all: the same answer the JWT checks give a
 * string that is not a signed JWT, whatever the token registry recognised first.
 */
export function notAnAccessToken(why: string): AuthFailure {
  return invalid('the bearer token is not a certmaster access token (a signed JWT)', {
    code: 'token_malformed',
    why,
  });
}

function invalid(detail: string, internalCause: RefusalCause): AuthFailure {
  return new AuthFailure('token_invalid', detail, INVALID_HINT, internalCause, { scheme: 'bearer' });
}

function claimedName(payload: JWTPayload): { claimedName?: string } {
  return typeof payload.sub === 'string' ? { claimedName: payload.sub.slice(0, 256) } : {};
}

/** Our own signature covers these claims, but a token signed by an old or buggy release must not crash us. */
function claimsOf(payload: JWTPayload): AccessTokenClaims {
  const { iss, aud, sub, jti, iat, exp, nbf } = payload;
  const clientId = payload.client_id;
  const scope = payload.scope;
  const roles = payload.roles;
  const sid = payload.sid;
  const text = (value: unknown): value is string =>
    typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_CHARS;
  if (
    !text(iss) ||
    !text(sub) ||
    !text(jti) ||
    !text(clientId) ||
    typeof aud !== 'string' ||
    typeof scope !== 'string' ||
    scope.length > MAX_CLAIM_CHARS ||
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    !Array.isArray(roles) ||
    !roles.every((role) => (ROLES as readonly unknown[]).includes(role)) ||
    (sid !== undefined && !text(sid))
  ) {
    throw invalid('the access token lacks claims certmaster needs', {
      code: 'token_malformed',
      why: 'claims do not have the expected shape',
    });
  }
  return {
    iss,
    aud,
    sub,
    client_id: clientId,
    scope,
    roles: roles as Role[],
    iat,
    nbf,
    exp,
    jti,
    sid: sid ?? null,
  };
}

function isoOf(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}

export { describeSeconds };
