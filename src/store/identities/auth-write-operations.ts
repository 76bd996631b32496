/**
 * The semantics of every identity and credential write, for both dialects; each runs inside the
 * transaction (or group-commit savepoint) a `WriteExecutor` gives it, as write-operations.ts does.
 */
import type { CompiledQuery, QueryResult } from 'kysely';
import { toMillis } from '../certificates/schema.js';
import { isUniqueViolation, type WriteContext } from '../certificates/write-operations.js';
import type { AuthQueries } from './auth-queries.js';
import {
  clientPatchToRow,
  clientToRow,
  refreshTokenToRow,
  rowToClient,
  rowToSigningKey,
  rowToToken,
  rowToUser,
  signingKeyToRow,
  tokenToRow,
  userPatchToRow,
  userToRow,
} from './auth-schema.js';
import {
  DuplicateError,
  type OAuthClientRecord,
  type RefreshTokenRecord,
  type SigningKeyRecord,
  type TokenRecord,
  type UserPatch,
  type UserRecord,
} from './auth-store.js';

/** touchToken writes at most once a minute per token: a write per authenticated request would not scale. */
export const TOUCH_INTERVAL_MS = 60_000;

const MAX_USER_NAME_LENGTH = 64;

async function firstRow<R>(ctx: WriteContext, query: CompiledQuery<R>): Promise<R | undefined> {
  const result = await ctx.run(query);
  return result.rows[0];
}

function affectedRows(result: QueryResult<unknown>): number {
  return Number(result.numAffectedRows ?? 0n);
}

async function insertOnce(ctx: WriteContext, query: CompiledQuery<unknown>, what: string): Promise<void> {
  try {
    await ctx.run(query);
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new DuplicateError(what);
    }
    throw error;
  }
}

/** RFC 7617 §2: a user-id containing a colon cannot be sent in Basic credentials. */
export function assertValidUserName(name: string): void {
  const length = [...name].length;
  if (length < 1 || length > MAX_USER_NAME_LENGTH || name.includes(':') || /\p{Cc}/u.test(name)) {
    throw new TypeError(
      `a user name must be 1 to ${MAX_USER_NAME_LENGTH} characters, without ":" or control characters`,
    );
  }
}

export async function createUser(ctx: WriteContext, q: AuthQueries, user: UserRecord): Promise<void> {
  assertValidUserName(user.name);
  await insertOnce(ctx, q.insertUser.bind(userToRow(user)), `user "${user.name}"`);
}

export async function updateUser(
  ctx: WriteContext,
  q: AuthQueries,
  name: string,
  patch: UserPatch,
  at: Date,
): Promise<UserRecord | null> {
  const row = await firstRow(ctx, q.updateUser(name, userPatchToRow(patch, at)));
  if (row === undefined) return null;
  if (patch.disabled === true) {
    // Disabling ends the account's sign-ins and what they minted, in the same transaction: enabling it
    // again must not revive a session that may be why it was disabled. Durable tokens only pause.
    await revokeRefreshTokensOfSubject(ctx, q, name, at);
    await ctx.run(q.revokeMintedTokensOfOwner.bind({ owner: name, at: toMillis(at) }));
  }
  return rowToUser(row);
}

/**
 * Removes the account and, in the same transaction, revokes its API tokens and refresh-token families:
 * an account created later under the same name must not inherit the credentials of this one.
 */
export async function removeUser(
  ctx: WriteContext,
  q: AuthQueries,
  name: string,
  at: Date,
): Promise<boolean> {
  const removed = affectedRows(await ctx.run(q.deleteUser.bind({ name })));
  if (removed === 0) {
    return false;
  }
  await ctx.run(q.revokeApiTokensOfOwner.bind({ owner: name, at: toMillis(at) }));
  await revokeRefreshTokensOfSubject(ctx, q, name, at);
  return true;
}

export async function createToken(ctx: WriteContext, q: AuthQueries, token: TokenRecord): Promise<void> {
  if (token.usesLeft !== null && (!Number.isSafeInteger(token.usesLeft) || token.usesLeft < 0)) {
    throw new RangeError("a token's uses left must be a non-negative integer or null");
  }
  await insertOnce(ctx, q.insertToken.bind(tokenToRow(token)), `token ${token.id}`);
  if (token.familyId !== null) {
    await ctx.run(
      q.revokeTokensOfRevokedFamily.bind({ familyId: token.familyId, at: toMillis(token.createdAt) }),
    );
  }
}

/** Revoking a revoked token keeps the first revocation; null when the token is unknown. */
export async function revokeToken(
  ctx: WriteContext,
  q: AuthQueries,
  id: string,
  at: Date,
): Promise<TokenRecord | null> {
  const revoked = await firstRow(ctx, q.revokeToken.bind({ id, at: toMillis(at) }));
  if (revoked !== undefined) {
    return rowToToken(revoked);
  }
  const existing = await firstRow(ctx, q.tokenById.bind({ id }));
  return existing === undefined ? null : rowToToken(existing);
}

export async function touchToken(ctx: WriteContext, q: AuthQueries, id: string, at: Date): Promise<void> {
  const ms = toMillis(at);
  await ctx.run(q.touchToken.bind({ id, at: ms, staleBefore: ms - TOUCH_INTERVAL_MS }));
}

export async function consumeEnrollmentUse(
  ctx: WriteContext,
  q: AuthQueries,
  id: string,
  at: Date,
): Promise<boolean> {
  return affectedRows(await ctx.run(q.consumeEnrollmentUse.bind({ id, at: toMillis(at) }))) === 1;
}

export async function createRefreshToken(
  ctx: WriteContext,
  q: AuthQueries,
  token: RefreshTokenRecord,
): Promise<void> {
  await insertOnce(ctx, q.insertRefreshToken.bind(refreshTokenToRow(token)), `refresh token ${token.id}`);
}

export async function markRefreshTokenUsed(
  ctx: WriteContext,
  q: AuthQueries,
  id: string,
  at: Date,
): Promise<boolean> {
  return affectedRows(await ctx.run(q.markRefreshTokenUsed.bind({ id, at: toMillis(at) }))) === 1;
}

/** Returns how many refresh tokens this call revoked (not counting ones revoked before). */
export async function revokeRefreshFamily(
  ctx: WriteContext,
  q: AuthQueries,
  familyId: string,
  at: Date,
): Promise<number> {
  const ms = toMillis(at);
  await ctx.run(q.recordRevokedFamily.bind({ familyId, at: ms }));
  await ctx.run(q.revokeTokensOfFamily.bind({ familyId, at: ms }));
  return affectedRows(await ctx.run(q.revokeRefreshTokensOfFamily.bind({ familyId, at: ms })));
}

/** Revokes the subject's families too, so the access tokens they minted stop working with them. */
export async function revokeRefreshTokensOfSubject(
  ctx: WriteContext,
  q: AuthQueries,
  subject: string,
  at: Date,
): Promise<number> {
  const ms = toMillis(at);
  await ctx.run(q.recordRevokedFamiliesOfSubject.bind({ subject, at: ms }));
  return affectedRows(await ctx.run(q.revokeRefreshTokensOfSubject.bind({ subject, at: ms })));
}

/** Also drops the entries of tokens expired by `at`, so the denylist holds only live tokens. */
export async function revokeAccessToken(
  ctx: WriteContext,
  q: AuthQueries,
  jti: string,
  expiresAt: Date,
  at: Date,
): Promise<void> {
  const ms = toMillis(at);
  await ctx.run(q.pruneAccessTokenDenylist.bind({ now: ms }));
  await ctx.run(q.denyAccessToken.bind({ jti, expiresAt: toMillis(expiresAt), at: ms }));
}

export async function createClient(
  ctx: WriteContext,
  q: AuthQueries,
  client: OAuthClientRecord,
): Promise<void> {
  await insertOnce(ctx, q.insertClient.bind(clientToRow(client)), `client ${client.clientId}`);
}

export async function updateClient(
  ctx: WriteContext,
  q: AuthQueries,
  clientId: string,
  patch: Partial<Pick<OAuthClientRecord, 'secretHash' | 'disabled' | 'scopes'>>,
): Promise<OAuthClientRecord | null> {
  const values = clientPatchToRow(patch);
  const row =
    Object.keys(values).length === 0
      ? await firstRow(ctx, q.clientById.bind({ clientId }))
      : await firstRow(ctx, q.updateClient(clientId, values));
  return row === undefined ? null : rowToClient(row);
}

export async function removeClient(ctx: WriteContext, q: AuthQueries, clientId: string): Promise<boolean> {
  return affectedRows(await ctx.run(q.deleteClient.bind({ clientId }))) === 1;
}

export async function addSigningKey(ctx: WriteContext, q: AuthQueries, key: SigningKeyRecord): Promise<void> {
  await insertOnce(ctx, q.insertSigningKey.bind(signingKeyToRow(key)), `signing key ${key.kid}`);
}

/** Retiring a retired key keeps the first retirement; null when the key is unknown. */
export async function retireSigningKey(
  ctx: WriteContext,
  q: AuthQueries,
  kid: string,
  retiredAt: Date,
  removeAfter: Date,
): Promise<SigningKeyRecord | null> {
  const retired = await firstRow(
    ctx,
    q.retireSigningKey.bind({ kid, retiredAt: toMillis(retiredAt), removeAfter: toMillis(removeAfter) }),
  );
  if (retired !== undefined) {
    return rowToSigningKey(retired);
  }
  const existing = await firstRow(ctx, q.signingKeyByKid.bind({ kid }));
  return existing === undefined ? null : rowToSigningKey(existing);
}
