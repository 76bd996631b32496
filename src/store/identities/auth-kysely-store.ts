/**
 * The identities aggregate over Kysely: accounts, API and enrollment tokens, refresh-token families,
 * OAuth clients and token signing keys. Reads go straight to the database; writes go through the write
 * executor by name (write-registry.ts), so they join the same group commit as everything else.
 */
import type { Kysely } from 'kysely';
import type { PageKey } from '../../domain/page-key.js';
import type { Clock } from '../../types.js';
import { fromOptionalMillis, type StoreDatabase, toMillis } from '../certificates/schema.js';
import type { CompiledReads } from '../engine/compiled-reads.js';
import type { WriteExecutor } from '../write-registry.js';
import { type AuthQueries, createAuthQueries, MAX_AUTH_LIST_SIZE } from './auth-queries.js';
import { rowToClient, rowToRefreshToken, rowToSigningKey, rowToToken, rowToUser } from './auth-schema.js';
import type {
  AuthStore,
  OAuthClientRecord,
  RefreshTokenRecord,
  SigningKeyRecord,
  TokenRecord,
  UserPatch,
  UserRecord,
} from './auth-store.js';
import { TOUCH_INTERVAL_MS } from './auth-write-operations.js';

function authListLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_AUTH_LIST_SIZE;
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return Math.min(limit, MAX_AUTH_LIST_SIZE);
}

export class KyselyAuthStore implements AuthStore {
  readonly #db: Kysely<StoreDatabase>;
  readonly #writer: WriteExecutor;
  readonly #clock: Clock;
  readonly #q: AuthQueries;
  readonly #reads: CompiledReads;

  /** `reads` runs the prepared reads: KyselyCertmasterStore chooses it for the whole store. */
  constructor(db: Kysely<StoreDatabase>, writer: WriteExecutor, clock: Clock, reads: CompiledReads) {
    this.#db = db;
    this.#reads = reads;
    this.#writer = writer;
    this.#clock = clock;
    this.#q = createAuthQueries(db);
  }

  createUser(user: UserRecord): Promise<void> {
    return this.#writer.execute('createUser', user);
  }

  async getUser(name: string): Promise<UserRecord | null> {
    const { rows } = await this.#reads.read(this.#q.userByName.bind({ name }));
    return rows[0] === undefined ? null : rowToUser(rows[0]);
  }

  /** By name; at most `limit` (MAX_AUTH_LIST_SIZE at most), those named after `after` (the next page). */
  async listUsers(filter: { limit?: number; after?: string } = {}): Promise<UserRecord[]> {
    if (filter.limit === undefined && filter.after === undefined) {
      const { rows } = await this.#reads.read(this.#q.allUsers.bind({}));
      return rows.map(rowToUser);
    }
    let query = this.#db.selectFrom('users').selectAll();
    if (filter.after !== undefined) query = query.where('name', '>', filter.after);
    const rows = await query.orderBy('name').limit(authListLimit(filter.limit)).execute();
    return rows.map(rowToUser);
  }

  updateUser(name: string, patch: UserPatch, at: Date): Promise<UserRecord | null> {
    return this.#writer.execute('updateUser', name, patch, at);
  }

  /** Also revokes the account's API tokens and refresh-token families, at the clock's now. */
  removeUser(name: string): Promise<boolean> {
    const at = this.#clock.now();
    return this.#writer.execute('removeUser', name, at);
  }

  createToken(token: TokenRecord): Promise<void> {
    return this.#writer.execute('createToken', token);
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const { rows } = await this.#reads.read(this.#q.tokenById.bind({ id }));
    return rows[0] === undefined ? null : rowToToken(rows[0]);
  }

  async findTokenBySecretHash(secretHash: string): Promise<TokenRecord | null> {
    const { rows } = await this.#reads.read(this.#q.tokenBySecretHash.bind({ secretHash }));
    return rows[0] === undefined ? null : rowToToken(rows[0]);
  }

  /**
   * Newest first; revoked tokens only when asked; at most `limit` (MAX_AUTH_LIST_SIZE at most), those
   * after `after` (the next page).
   */
  async listTokens(filter: {
    owner?: string;
    kind?: TokenRecord['kind'];
    includeRevoked?: boolean;
    limit?: number;
    after?: PageKey;
  }): Promise<TokenRecord[]> {
    let query = this.#db.selectFrom('tokens').selectAll();
    const after = filter.after;
    if (after !== undefined) {
      const at = toMillis(after.at);
      query = query.where((eb) =>
        eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', after.key)])]),
      );
    }
    if (filter.owner !== undefined) {
      query = query.where('owner', '=', filter.owner);
    }
    if (filter.kind !== undefined) {
      query = query.where('kind', '=', filter.kind);
    }
    if (filter.includeRevoked !== true) {
      query = query.where('revoked_at', 'is', null);
    }
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(authListLimit(filter.limit))
      .execute();
    return rows.map(rowToToken);
  }

  revokeToken(id: string, at: Date): Promise<TokenRecord | null> {
    return this.#writer.execute('revokeToken', id, at);
  }

  /** One indexed read when the token was used in the last minute; a write otherwise. */
  async touchToken(id: string, at: Date): Promise<void> {
    const { rows } = await this.#reads.read(this.#q.tokenLastUsedAt.bind({ id }));
    const row = rows[0];
    if (row === undefined) {
      return;
    }
    const lastUsedAt = fromOptionalMillis(row.last_used_at);
    if (lastUsedAt !== null && toMillis(at) - lastUsedAt.getTime() < TOUCH_INTERVAL_MS) {
      return;
    }
    await this.#writer.execute('touchToken', id, at);
  }

  consumeEnrollmentUse(id: string, at: Date): Promise<boolean> {
    return this.#writer.execute('consumeEnrollmentUse', id, at);
  }

  createRefreshToken(token: RefreshTokenRecord): Promise<void> {
    return this.#writer.execute('createRefreshToken', token);
  }

  /** A token of a revoked family reads as revoked, with the family's revocation time. */
  async findRefreshTokenBySecretHash(secretHash: string): Promise<RefreshTokenRecord | null> {
    const { rows } = await this.#reads.read(this.#q.refreshTokenBySecretHash.bind({ secretHash }));
    return rows[0] === undefined ? null : rowToRefreshToken(rows[0]);
  }

  /** Also false when the token's family has been revoked. */
  markRefreshTokenUsed(id: string, at: Date): Promise<boolean> {
    return this.#writer.execute('markRefreshTokenUsed', id, at);
  }

  revokeRefreshFamily(familyId: string, at: Date): Promise<number> {
    return this.#writer.execute('revokeRefreshFamily', familyId, at);
  }

  revokeRefreshTokensOfSubject(subject: string, at: Date): Promise<number> {
    return this.#writer.execute('revokeRefreshTokensOfSubject', subject, at);
  }

  revokeAccessToken(jti: string, expiresAt: Date, at: Date): Promise<void> {
    return this.#writer.execute('revokeAccessToken', jti, expiresAt, at);
  }

  /**
   * Called on every bearer-authenticated request: one statement of primary-key lookups. The denylist
   * forgets tokens once they have expired, so the caller must check `exp` itself (it does anyway).
   */
  async accessTokenRevokedAt(jti: string, familyId: string | null): Promise<Date | null> {
    const query =
      familyId === null
        ? this.#q.deniedAccessTokenRevokedAt.bind({ jti })
        : this.#q.accessTokenRevokedAt.bind({ jti, familyId });
    const { rows } = await this.#reads.read(query);
    return fromOptionalMillis(rows[0]?.revoked_at ?? null);
  }

  createClient(client: OAuthClientRecord): Promise<void> {
    return this.#writer.execute('createClient', client);
  }

  async getClient(clientId: string): Promise<OAuthClientRecord | null> {
    const { rows } = await this.#reads.read(this.#q.clientById.bind({ clientId }));
    return rows[0] === undefined ? null : rowToClient(rows[0]);
  }

  /** By client id; at most MAX_AUTH_LIST_SIZE. */
  async listClients(): Promise<OAuthClientRecord[]> {
    const { rows } = await this.#reads.read(this.#q.allClients.bind({}));
    return rows.map(rowToClient);
  }

  updateClient(
    clientId: string,
    patch: Partial<Pick<OAuthClientRecord, 'secretHash' | 'disabled' | 'scopes'>>,
  ): Promise<OAuthClientRecord | null> {
    return this.#writer.execute('updateClient', clientId, patch);
  }

  removeClient(clientId: string): Promise<boolean> {
    return this.#writer.execute('removeClient', clientId);
  }

  addSigningKey(key: SigningKeyRecord): Promise<void> {
    return this.#writer.execute('addSigningKey', key);
  }

  /** Oldest first, retired and expired ones included: the caller decides what the JWKS shows. */
  async listSigningKeys(): Promise<SigningKeyRecord[]> {
    const { rows } = await this.#reads.read(this.#q.allSigningKeys.bind({}));
    return rows.map(rowToSigningKey);
  }

  retireSigningKey(kid: string, retiredAt: Date, removeAfter: Date): Promise<SigningKeyRecord | null> {
    return this.#writer.execute('retireSigningKey', kid, retiredAt, removeAfter);
  }
}
