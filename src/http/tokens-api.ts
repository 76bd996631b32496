/**
 * /v1/tokens and /v1/users: API tokens act as the account that made them, with at most its scopes;
 * enrollment tokens need the right to approve requests, since they let a host be signed unattended.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { type AuditSink, auditEvent } from '../audit/event.js';
import { authorize, requireSignedIn } from '../auth/authorize.js';
import { AuthFailure } from '../auth/failure.js';
import type { TokenAdministration, TokenRecord, UserRecord } from '../auth/identity-queries.js';
import { eabCredentialsOf } from '../auth/tokens/acme-eab.js';
import { type OpaqueTokens, TokenRequestError } from '../auth/tokens/opaque-tokens.js';
import { PolicyFailure } from '../ra/failure.js';
import { tokenJson } from '../tokens-view.js';
import type { Clock, Principal } from '../types.js';
import { actorOf } from './actor.js';
import { NEXT_PROPERTY, onePage, PAGE_QUERY } from './paging.js';
import { problemSchema } from './problem.js';
import { stringEnum } from './request-schema.js';
import { requireScope } from './scope-guard.js';

const tokenItem = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string' },
    owner: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    name_pattern: { type: ['string', 'null'] },
    uses_left: { type: ['integer', 'null'] },
    description: { type: 'string' },
    created_at: { type: 'string' },
    expires_at: { type: ['string', 'null'] },
    last_used_at: { type: ['string', 'null'] },
    revoked_at: { type: ['string', 'null'] },
    family_id: { type: ['string', 'null'] },
  },
} as const;
const errors = { '4xx': problemSchema, '5xx': problemSchema } as const;

/**
 * A token made with an OAuth access token belongs to that sign-in (issue 8 item 5): it names the
 * refresh family, so logging out revokes it, and it lives at most `maxSeconds`. Basic, Digest and
 * other tokens have no sign-in to tie to; a durable token (admin only) asks not to be tied.
 */
function sessionTie(
  p: Principal,
  durable: boolean,
  ttlSeconds: number | undefined,
  maxSeconds: number,
): { ttlSeconds?: number; familyId?: string } {
  // A token made with a tied API token is tied too: a second hop must not escape the sign-in.
  const signedIn = p.method === 'access_token' || p.method === 'api_token';
  const familyId = signedIn && !durable ? p.token?.familyId : undefined;
  if (familyId === undefined) return ttlSeconds !== undefined ? { ttlSeconds } : {};
  return { ttlSeconds: Math.min(ttlSeconds ?? maxSeconds, maxSeconds), familyId };
}

export const tokensPlugin: FastifyPluginAsyncTypebox<{
  tokens: OpaqueTokens;
  store: TokenAdministration;
  clock: Clock;
  audit?: AuditSink;
  /** auth.minted_token_max_days in seconds: the longest an API token made with a sign-in may live. */
  mintedTokenMaxSeconds: number;
  /** The server's key under which ACME EAB keys of enrollment tokens are derived. */
  eabServerKey: Buffer;
}> = async (app, opts) => {
  const { tokens, store, clock } = opts;
  /** Token changes are audited before the answer leaves (the token exists either way; fail closed on the answer). */
  const record = async (
    request: FastifyRequest,
    action: string,
    target: string,
    details: Record<string, unknown>,
  ) => {
    await opts.audit?.record(
      auditEvent(clock.now(), actorOf(request), 'token.change', 'decision', 'success', {
        target,
        details: { action, ...details },
      }),
    );
  };

  app.post(
    '/v1/tokens',
    {
      schema: {
        summary:
          'Create an API token (acting as you) or an enrollment token; the secret is in this answer only',
        tags: ['tokens'],
        body: Type.Object(
          {
            kind: stringEnum(['api', 'enrollment']),
            scopes: Type.Optional(Type.Array(Type.String({ maxLength: 40 }), { maxItems: 20 })),
            name_pattern: Type.Optional(Type.String({ maxLength: 253 })),
            uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000000 })),
            ttl_seconds: Type.Optional(Type.Integer({ minimum: 1 })),
            description: Type.Optional(Type.String({ maxLength: 200 })),
            durable: Type.Optional(Type.Boolean()),
            acme_eab: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: {
          201: {
            type: 'object',
            properties: {
              token: { type: 'string' },
              record: tokenItem,
              acme_eab: {
                type: 'object',
                properties: { kid: { type: 'string' }, hmac_key: { type: 'string' } },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const p = request.principal;
      requireSignedIn(p);
      const body = request.body;
      // A durable token outlives the sign-in that made it: only an admin (tokens:manage) may ask for one.
      if (body.durable === true) authorize(p, 'tokens:manage');
      if (body.kind === 'enrollment') authorize(p, 'requests:approve');
      if (p.method === 'enrollment_token') authorize(p, 'tokens:manage');
      const wanted = body.scopes ?? [];
      const beyond = wanted.filter((s) => !p.scopes.includes(s));
      if (body.kind === 'api' && beyond.length > 0) {
        throw new AuthFailure(
          'insufficient_scope',
          `you cannot give a token scopes you do not have: ${beyond.join(', ')}`,
          'ask only for scopes your account has (`certmaster whoami`)',
          { code: 'scopes_beyond_own', scopes: beyond },
          { scope: beyond[0] ?? '' },
        );
      }
      const tied = sessionTie(p, body.durable === true, body.ttl_seconds, opts.mintedTokenMaxSeconds);
      try {
        const created = await tokens.create({
          kind: body.kind,
          owner: p.name,
          ...(body.kind === 'api' ? { scopes: wanted } : {}),
          ...(body.name_pattern ? { namePattern: body.name_pattern } : {}),
          ...(body.uses !== undefined ? { uses: body.uses } : {}),
          ...(tied.ttlSeconds !== undefined ? { ttlSeconds: tied.ttlSeconds } : {}),
          ...(tied.familyId !== undefined ? { familyId: tied.familyId } : {}),
          ...(body.description ? { description: body.description } : {}),
        });
        await record(request, 'create', created.record.id, {
          kind: created.record.kind,
          scopes: created.record.scopes,
          name_pattern: created.record.namePattern,
          family_id: created.record.familyId,
          expires_at: created.record.expiresAt?.toISOString() ?? null,
        });
        reply.header('cache-control', 'no-store');
        // RFC 8555 §7.3.4: the EAB key is told once, with the token, like the token itself.
        const eab =
          body.acme_eab === true && created.record.kind === 'enrollment'
            ? eabCredentialsOf(opts.eabServerKey, created.record.id, created.token)
            : null;
        return reply.code(201).send({
          token: created.token,
          record: tokenJson(created.record),
          ...(eab ? { acme_eab: { kid: eab.kid, hmac_key: eab.hmacKey } } : {}),
        });
      } catch (e) {
        if (e instanceof TokenRequestError)
          throw new PolicyFailure('invalid_argument', e.message, 'see `certmaster token create --help`', {
            facts: { code: 'argument_invalid', argument: 'token', why: e.message },
          });
        throw e;
      }
    },
  );

  app.get(
    '/v1/tokens',
    {
      schema: {
        summary: 'Your tokens (all tokens with tokens:manage); never their secrets',
        tags: ['tokens'],
        querystring: Type.Object(
          { all: Type.Optional(Type.Boolean()), ...PAGE_QUERY },
          { additionalProperties: false },
        ),
        response: {
          200: {
            type: 'object',
            properties: { tokens: { type: 'array', items: tokenItem }, ...NEXT_PROPERTY },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const p = request.principal;
      requireSignedIn(p);
      const q = request.query;
      const everyone = p.scopes.includes('tokens:manage');
      const page = await onePage(
        request,
        reply,
        q,
        (t: TokenRecord) => ({ at: t.createdAt, key: t.id }),
        (limit, after) =>
          store.listTokens({
            ...(everyone ? {} : { owner: p.name }),
            includeRevoked: q.all === true,
            limit,
            ...(after ? { after } : {}),
          }),
      );
      return { tokens: page.items.map(tokenJson), next: page.next };
    },
  );

  app.delete(
    '/v1/tokens/:id',
    {
      schema: {
        summary: 'Revoke a token',
        tags: ['tokens'],
        params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
        response: { 200: tokenItem, ...errors },
      },
    },
    async (request) => {
      const p = request.principal;
      requireSignedIn(p);
      const { id } = request.params;
      const existing = await store.getToken(id);
      if (!existing || (existing.owner !== p.name && !p.scopes.includes('tokens:manage'))) {
        throw new PolicyFailure(
          'not_found',
          `no token of yours has id ${id}`,
          'list them with `certmaster token list`',
          { facts: { code: 'object_unknown', kind: 'token', id: id.slice(0, 255) } },
        );
      }
      await record(request, 'revoke', id, { owner: existing.owner });
      const revoked = await store.revokeToken(id, clock.now());
      return tokenJson(revoked ?? existing);
    },
  );

  app.get(
    '/v1/users',
    {
      preHandler: requireScope('users:manage'),
      schema: {
        summary: 'Accounts, by name',
        tags: ['users'],
        querystring: Type.Object({ ...PAGE_QUERY }, { additionalProperties: false }),
        response: {
          200: {
            type: 'object',
            properties: {
              ...NEXT_PROPERTY,
              users: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    name: { type: 'string' },
                    role: { type: 'string' },
                    disabled: { type: 'boolean' },
                    digest: { type: 'boolean' },
                    names: { type: 'array', items: { type: 'string' } },
                    created_at: { type: 'string' },
                  },
                },
              },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      // By name: the cursor's key is the last name shown (its time is not used for ordering).
      const page = await onePage(
        request,
        reply,
        request.query,
        (u: UserRecord) => ({ at: u.createdAt, key: u.name }),
        (limit, after) => store.listUsers({ limit, ...(after ? { after: after.key } : {}) }),
      );
      return {
        users: page.items.map((u) => ({
          name: u.name,
          role: u.role,
          disabled: u.disabled,
          digest: u.digestSecrets !== null,
          names: u.namePatterns,
          created_at: u.createdAt.toISOString(),
        })),
        next: page.next,
      };
    },
  );
};
