/**
 * The identity and credential queries, compiled once per database. Those on the path of every
 * authenticated request (user by name, token by secret hash, access-token revocation) are primary-key
 * or unique-index lookups. Conditional UPDATEs carry their preconditions in the WHERE clause, so "check
 * then take" is one statement: atomic across connections, processes and replicas.
 */
import { type Kysely, sql } from 'kysely';
import type { StoreDatabase } from '../certificates/schema.js';
import { prepareQuery } from '../engine/prepared-query.js';
import type { OAuthClientRow, RefreshTokenRow, SigningKeyRow, TokenRow, UserRow } from './auth-schema.js';

/** Lists without a limit of their own (users, tokens, clients) return at most this many records. */
export const MAX_AUTH_LIST_SIZE = 10_000;

export function createAuthQueries(db: Kysely<StoreDatabase>) {
  return {
    userByName: prepareQuery((p: { name: string }) =>
      db.selectFrom('users').selectAll().where('name', '=', p.name),
    ),

    allUsers: prepareQuery((_: Record<string, never>) =>
      db.selectFrom('users').selectAll().orderBy('name').limit(sql.lit(MAX_AUTH_LIST_SIZE)),
    ),

    insertUser: prepareQuery((p: UserRow) =>
      db.insertInto('users').values({
        name: p.name,
        role: p.role,
        password_hash: p.password_hash,
        digest_secrets: p.digest_secrets,
        disabled: p.disabled,
        name_patterns: p.name_patterns,
        created_at: p.created_at,
        updated_at: p.updated_at,
        password_changed_at: p.password_changed_at,
      }),
    ),

    updateUser: (name: string, values: Partial<UserRow>) =>
      db.updateTable('users').set(values).where('name', '=', name).returningAll().compile(),

    deleteUser: prepareQuery((p: { name: string }) => db.deleteFrom('users').where('name', '=', p.name)),

    /** Tokens the owner's sign-ins minted (not durable ones): they end with the sign-ins. */
    revokeMintedTokensOfOwner: prepareQuery((p: { owner: string; at: number }) =>
      db
        .updateTable('tokens')
        .set({ revoked_at: p.at })
        .where('owner', '=', p.owner)
        .where('family_id', 'is not', null)
        .where('revoked_at', 'is', null),
    ),

    revokeApiTokensOfOwner: prepareQuery((p: { owner: string; at: number }) =>
      db
        .updateTable('tokens')
        .set({ revoked_at: p.at })
        .where('owner', '=', p.owner)
        .where('kind', '=', sql.lit('api'))
        .where('revoked_at', 'is', null),
    ),

    tokenById: prepareQuery((p: { id: string }) =>
      db.selectFrom('tokens').selectAll().where('id', '=', p.id),
    ),

    tokenBySecretHash: prepareQuery((p: { secretHash: string }) =>
      db.selectFrom('tokens').selectAll().where('secret_hash', '=', p.secretHash),
    ),

    tokenLastUsedAt: prepareQuery((p: { id: string }) =>
      db.selectFrom('tokens').select('last_used_at').where('id', '=', p.id),
    ),

    insertToken: prepareQuery((p: TokenRow) =>
      db.insertInto('tokens').values({
        id: p.id,
        kind: p.kind,
        secret_hash: p.secret_hash,
        owner: p.owner,
        scopes: p.scopes,
        name_pattern: p.name_pattern,
        uses_left: p.uses_left,
        description: p.description,
        created_at: p.created_at,
        expires_at: p.expires_at,
        last_used_at: p.last_used_at,
        revoked_at: p.revoked_at,
        family_id: p.family_id,
      }),
    ),

    /** Touches only an unrevoked token, so the first revocation's time stands. */
    revokeToken: prepareQuery((p: { id: string; at: number }) =>
      db
        .updateTable('tokens')
        .set({ revoked_at: p.at })
        .where('id', '=', p.id)
        .where('revoked_at', 'is', null)
        .returningAll(),
    ),

    /** Never moves last_used_at backwards, and writes nothing when it is newer than `staleBefore`. */
    touchToken: prepareQuery((p: { id: string; at: number; staleBefore: number }) =>
      db
        .updateTable('tokens')
        .set({ last_used_at: p.at })
        .where('id', '=', p.id)
        .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<=', p.staleBefore)])),
    ),

    /** One row changed means one use taken; NULL uses_left (unlimited) stays NULL. */
    consumeEnrollmentUse: prepareQuery((p: { id: string; at: number }) =>
      db
        .updateTable('tokens')
        .set((eb) => ({ uses_left: eb('uses_left', '-', sql.lit(1)), last_used_at: p.at }))
        .where('id', '=', p.id)
        .where('kind', '=', sql.lit('enrollment'))
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', p.at)]))
        .where((eb) => eb.or([eb('uses_left', 'is', null), eb('uses_left', '>', sql.lit(0))])),
    ),

    insertRefreshToken: prepareQuery((p: RefreshTokenRow) =>
      db.insertInto('refresh_tokens').values({
        id: p.id,
        family_id: p.family_id,
        secret_hash: p.secret_hash,
        subject: p.subject,
        client_id: p.client_id,
        scopes: p.scopes,
        issued_at: p.issued_at,
        expires_at: p.expires_at,
        used_at: p.used_at,
        revoked_at: p.revoked_at,
      }),
    ),

    /** A token rotated into its family after the family was revoked reads as revoked (with the family's time). */
    refreshTokenBySecretHash: prepareQuery((p: { secretHash: string }) =>
      db
        .selectFrom('refresh_tokens as t')
        .leftJoin('revoked_refresh_families as f', 'f.family_id', 't.family_id')
        .select((eb) => [
          't.id',
          't.family_id',
          't.secret_hash',
          't.subject',
          't.client_id',
          't.scopes',
          't.issued_at',
          't.expires_at',
          't.used_at',
          eb.fn.coalesce('t.revoked_at', 'f.revoked_at').as('revoked_at'),
        ])
        .where('t.secret_hash', '=', p.secretHash),
    ),

    markRefreshTokenUsed: prepareQuery((p: { id: string; at: number }) =>
      db
        .updateTable('refresh_tokens')
        .set({ used_at: p.at })
        .where('id', '=', p.id)
        .where('used_at', 'is', null)
        .where('revoked_at', 'is', null)
        .where(({ not, exists, selectFrom }) =>
          not(
            exists(
              selectFrom('revoked_refresh_families')
                .select(sql.lit(1).as('revoked'))
                .whereRef('revoked_refresh_families.family_id', '=', 'refresh_tokens.family_id'),
            ),
          ),
        ),
    ),

    /** The first revocation of a family stands. */
    recordRevokedFamily: prepareQuery((p: { familyId: string; at: number }) =>
      db
        .insertInto('revoked_refresh_families')
        .values({ family_id: p.familyId, revoked_at: p.at })
        .onConflict((oc) => oc.column('family_id').doNothing()),
    ),

    revokeRefreshTokensOfFamily: prepareQuery((p: { familyId: string; at: number }) =>
      db
        .updateTable('refresh_tokens')
        .set({ revoked_at: p.at })
        .where('family_id', '=', p.familyId)
        .where('revoked_at', 'is', null),
    ),

    /** API tokens minted from a sign-in die with it (issue 8 item 5). */
    revokeTokensOfFamily: prepareQuery((p: { familyId: string; at: number }) =>
      db
        .updateTable('tokens')
        .set({ revoked_at: p.at })
        .where('family_id', '=', p.familyId)
        .where('revoked_at', 'is', null),
    ),

    /** A token minted while its family was being revoked must not survive the revocation it raced. */
    revokeTokensOfRevokedFamily: prepareQuery((p: { familyId: string; at: number }) =>
      db
        .updateTable('tokens')
        .set({ revoked_at: p.at })
        .where('family_id', '=', p.familyId)
        .where('revoked_at', 'is', null)
        .where((eb) =>
          eb.exists(
            eb
              .selectFrom('revoked_refresh_families')
              .select('revoked_refresh_families.family_id')
              .where('revoked_refresh_families.family_id', '=', p.familyId),
          ),
        ),
    ),

    /** Records as revoked every family in which the subject holds an unrevoked refresh token. */
    recordRevokedFamiliesOfSubject: prepareQuery((p: { subject: string; at: number }) =>
      db
        .insertInto('revoked_refresh_families')
        .columns(['family_id', 'revoked_at'])
        .expression(
          db
            .selectFrom('refresh_tokens')
            // CAST: PostgreSQL would type a bare parameter in a SELECT list as text.
            .select(['family_id', sql<number>`cast(${p.at} as bigint)`.as('revoked_at')])
            .distinct()
            // SQLite needs a WHERE here to parse INSERT ... SELECT ... ON CONFLICT (lang_upsert.html).
            .where('refresh_tokens.subject', '=', p.subject)
            .where('refresh_tokens.revoked_at', 'is', null),
        )
        .onConflict((oc) => oc.column('family_id').doNothing()),
    ),

    revokeRefreshTokensOfSubject: prepareQuery((p: { subject: string; at: number }) =>
      db
        .updateTable('refresh_tokens')
        .set({ revoked_at: p.at })
        .where('subject', '=', p.subject)
        .where('revoked_at', 'is', null),
    ),

    /** The first revocation of an access token stands. */
    denyAccessToken: prepareQuery((p: { jti: string; expiresAt: number; at: number }) =>
      db
        .insertInto('access_token_denylist')
        .values({ jti: p.jti, expires_at: p.expiresAt, revoked_at: p.at })
        .onConflict((oc) => oc.column('jti').doNothing()),
    ),

    /** Entries for tokens that have expired: their `exp` refuses them now, the denylist need not. */
    pruneAccessTokenDenylist: prepareQuery((p: { now: number }) =>
      db.deleteFrom('access_token_denylist').where('expires_at', '<', p.now),
    ),

    /** Two primary-key lookups in one statement: the token's own revocation and its family's. */
    accessTokenRevokedAt: prepareQuery((p: { jti: string; familyId: string }) =>
      db
        .selectFrom(
          db
            .selectFrom('access_token_denylist')
            .select('revoked_at')
            .where('jti', '=', p.jti)
            .unionAll(
              db
                .selectFrom('revoked_refresh_families')
                .select('revoked_at')
                .where('family_id', '=', p.familyId),
            )
            .as('revocations'),
        )
        .select((eb) => eb.fn.min('revocations.revoked_at').as('revoked_at')),
    ),

    /** For access tokens of no family (client_credentials). */
    deniedAccessTokenRevokedAt: prepareQuery((p: { jti: string }) =>
      db.selectFrom('access_token_denylist').select('revoked_at').where('jti', '=', p.jti),
    ),

    clientById: prepareQuery((p: { clientId: string }) =>
      db.selectFrom('oauth_clients').selectAll().where('client_id', '=', p.clientId),
    ),

    allClients: prepareQuery((_: Record<string, never>) =>
      db.selectFrom('oauth_clients').selectAll().orderBy('client_id').limit(sql.lit(MAX_AUTH_LIST_SIZE)),
    ),

    insertClient: prepareQuery((p: OAuthClientRow) =>
      db.insertInto('oauth_clients').values({
        client_id: p.client_id,
        secret_hash: p.secret_hash,
        role: p.role,
        scopes: p.scopes,
        owner: p.owner,
        disabled: p.disabled,
        created_at: p.created_at,
      }),
    ),

    updateClient: (clientId: string, values: Partial<OAuthClientRow>) =>
      db.updateTable('oauth_clients').set(values).where('client_id', '=', clientId).returningAll().compile(),

    deleteClient: prepareQuery((p: { clientId: string }) =>
      db.deleteFrom('oauth_clients').where('client_id', '=', p.clientId),
    ),

    allSigningKeys: prepareQuery((_: Record<string, never>) =>
      db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid'),
    ),

    signingKeyByKid: prepareQuery((p: { kid: string }) =>
      db.selectFrom('signing_keys').selectAll().where('kid', '=', p.kid),
    ),

    insertSigningKey: prepareQuery((p: SigningKeyRow) =>
      db.insertInto('signing_keys').values({
        kid: p.kid,
        algorithm: p.algorithm,
        private_key_sealed: p.private_key_sealed,
        public_jwk: p.public_jwk,
        created_at: p.created_at,
        not_before: p.not_before,
        retired_at: p.retired_at,
        remove_after: p.remove_after,
      }),
    ),

    /** Touches only an active key, so the first retirement stands. */
    retireSigningKey: prepareQuery((p: { kid: string; retiredAt: number; removeAfter: number }) =>
      db
        .updateTable('signing_keys')
        .set({ retired_at: p.retiredAt, remove_after: p.removeAfter })
        .where('kid', '=', p.kid)
        .where('retired_at', 'is', null)
        .returningAll(),
    ),
  };
}

export type AuthQueries = ReturnType<typeof createAuthQueries>;
