/** `certmaster token ...`: API tokens for machines and enrollment tokens for new hosts. */
import type { Command } from 'commander';
import { EAB_KEY_PURPOSE, eabCredentialsOf } from '../auth/tokens/acme-eab.js';
import { OpaqueTokens, TokenRequestError } from '../auth/tokens/opaque-tokens.js';
import { ApiClient } from '../client/api.js';
import type { PageKey } from '../domain/page-key.js';
import { openSecretBox } from '../instance/front-door.js';
import { openInstance } from '../instance/open.js';
import type { TokenRecord } from '../store/identities/auth-store.js';
import { type TokenView, tokenJson } from '../tokens-view.js';
import { systemClock } from '../types.js';
import { parseDuration } from '../util/durations.js';
import { collect } from './init.js';
import { gather, storePage, type TargetFlags, targetOptions } from './operator-backend.js';
import { CliError, printJson, printTable, safe } from './output.js';
import { recordLocalChange } from './user.js';

interface CreateFlags extends TargetFlags {
  scope: string[];
  enroll?: string;
  uses?: string;
  ttl?: string;
  owner: string;
  description?: string;
  durable?: boolean;
  json?: boolean;
  acmeEab?: boolean;
}

interface CreateBody {
  kind: 'api' | 'enrollment';
  scopes?: string[];
  name_pattern?: string;
  uses?: number;
  ttl_seconds?: number;
  description?: string;
  durable?: boolean;
  acme_eab?: boolean;
}

interface Created {
  token: string;
  record: TokenView;
  acme_eab?: { kid: string; hmac_key: string };
}

interface TokenBackend {
  create(body: CreateBody, owner: string): Promise<Created>;
  list(all: boolean): Promise<TokenView[]>;
  revoke(id: string): Promise<TokenView | null>;
  close(): Promise<void>;
}

async function openTokenBackend(flags: TargetFlags): Promise<TokenBackend> {
  if (flags.data && flags.server) throw new CliError('give either --data DIR or --server URL, not both');
  if (flags.data) {
    const instance = await openInstance(flags.data);
    const tokens = new OpaqueTokens({ store: instance.store, clock: systemClock });
    return {
      create: async (body, owner) => {
        await recordLocalChange(instance, 'token.change', 'create', body.kind, {
          owner,
          scopes: body.scopes ?? [],
          name_pattern: body.name_pattern ?? null,
        });
        const created = await tokens.create({
          kind: body.kind,
          owner,
          ...(body.scopes ? { scopes: body.scopes } : {}),
          ...(body.name_pattern ? { namePattern: body.name_pattern } : {}),
          ...(body.uses !== undefined ? { uses: body.uses } : {}),
          ...(body.ttl_seconds !== undefined ? { ttlSeconds: body.ttl_seconds } : {}),
          ...(body.description ? { description: body.description } : {}),
        });
        const eab =
          body.acme_eab === true
            ? eabCredentialsOf(
                openSecretBox(instance.layout).deriveKey(EAB_KEY_PURPOSE),
                created.record.id,
                created.token,
              )
            : null;
        return {
          token: created.token,
          record: tokenJson(created.record),
          ...(eab ? { acme_eab: { kid: eab.kid, hmac_key: eab.hmacKey } } : {}),
        };
      },
      list: async (all) => {
        const listing = await gather<TokenRecord, PageKey>(null, (size, after) =>
          storePage(
            size,
            (n) => instance.store.listTokens({ includeRevoked: all, limit: n, ...(after ? { after } : {}) }),
            (t) => ({ at: t.createdAt, key: t.id }),
          ),
        );
        return listing.items.map(tokenJson);
      },
      revoke: async (id) => {
        await recordLocalChange(instance, 'token.change', 'revoke', id);
        const r = await instance.store.revokeToken(id, systemClock.now());
        return r && tokenJson(r);
      },
      close: () => instance.close(),
    };
  }
  if (flags.server) {
    const api = ApiClient.open(flags.server, {
      ...(flags.token ? { token: flags.token } : {}),
      ...(flags.caFile ? { caFile: flags.caFile } : {}),
    });
    return {
      create: (body) => api.call<Created>('POST', '/v1/tokens', body),
      // Follows the server's pages (`next`) to the end.
      list: async (all) =>
        (
          await gather<TokenView, string>(null, async (size, cursor) => {
            const query = new URLSearchParams({ limit: String(size) });
            if (all) query.set('all', 'true');
            if (cursor) query.set('cursor', cursor);
            const answer = await api.call<{ tokens: TokenView[]; next?: string | null }>(
              'GET',
              `/v1/tokens?${query}`,
            );
            return { items: answer.tokens, next: answer.next ?? null };
          })
        ).items,
      revoke: (id) => api.call<TokenView>('DELETE', `/v1/tokens/${encodeURIComponent(id)}`),
      close: async () => api.close(),
    };
  }
  throw new CliError(
    'say where: --data DIR for a local data directory, or --server URL for a running server',
  );
}

async function withTokens<T>(flags: TargetFlags, fn: (b: TokenBackend) => Promise<T>): Promise<T> {
  const backend = await openTokenBackend(flags);
  try {
    return await fn(backend);
  } catch (e) {
    if (e instanceof TokenRequestError) throw new CliError(e.message);
    throw e;
  } finally {
    await backend.close();
  }
}

export function registerToken(program: Command): void {
  const token = program
    .command('token')
    .description('API tokens for machines, enrollment tokens for new hosts: create, list, revoke')
    .addHelpText(
      'after',
      `
Examples:
  certmaster token create --scope requests:read --scope certificates:read --ttl 30d --data DIR
  certmaster token create --enroll 'web-*.example.com' --uses 1 --ttl 1h --data DIR
  certmaster token create --enroll '*.web.example.com' --acme-eab --ttl 7d --data DIR
      (then: lego --eab --kid tok_... --hmac KEY ...; the ACME account may order only *.web.example.com)
  certmaster request --server URL --cn web-7.example.com --token cmet_... --out /etc/certmaster

Tokens are printed once and stored only as hashes; cmat_ starts an API token and cmet_ an
enrollment token, so secret scanners can spot a leaked one.

A token created over --server while logged in (\`certmaster login\`) belongs to that sign-in: it
expires within auth.minted_token_max_days (30 days by default) and \`certmaster logout\` revokes it.
An admin can ask for one that outlives the sign-in with --durable.`,
    );

  targetOptions(token.command('create'))
    .description('create a token and print it once')
    .option('--scope <scope>', 'API token scope (repeatable), e.g. requests:read', collect, [])
    .option(
      '--enroll <pattern>',
      'make an enrollment token for names matching this pattern, e.g. web-*.example.com',
    )
    .option('--uses <n>', 'enrollment token: how many requests it may make (default unlimited)')
    .option(
      '--acme-eab',
      'enrollment token: also print ACME External Account Binding credentials (key id and HMAC key, RFC 8555 §7.3.4) for clients such as `lego --eab --kid KID --hmac KEY`; accounts bound with them may order only the token’s names',
    )
    .option(
      '--ttl <duration>',
      'lifetime: 90s, 15m, 1h, 7d (default: no expiry for API tokens, 1h for enrollment tokens)',
    )
    .option(
      '--durable',
      'server only, admin (tokens:manage): not tied to your sign-in, so logout does not revoke it',
    )
    .option('--owner <name>', 'local only: the account an API token acts as', 'admin')
    .option('--description <text>', 'what it is for, shown in `token list`')
    .option('--json', 'machine-readable output')
    .action(async (flags: CreateFlags) => {
      if (flags.scope.length > 0 === (flags.enroll !== undefined)) {
        throw new CliError('give either --scope (an API token) or --enroll PATTERN (an enrollment token)');
      }
      if (flags.acmeEab && flags.enroll === undefined)
        throw new CliError(
          '--acme-eab binds ACME accounts to an enrollment token: give --enroll PATTERN too',
        );
      const ttl = flags.ttl === undefined ? (flags.enroll ? 3600 : undefined) : parseDuration(flags.ttl);
      if (ttl === null)
        throw new CliError(`--ttl "${flags.ttl}" is not a duration such as 90s, 15m, 1h or 7d`);
      const uses = flags.uses === undefined ? undefined : Number(flags.uses);
      if (uses !== undefined && (!Number.isInteger(uses) || uses < 1))
        throw new CliError(`--uses must be a whole number of at least 1, not "${flags.uses}"`);
      const body: CreateBody = flags.enroll
        ? { kind: 'enrollment', name_pattern: flags.enroll, ...(uses !== undefined ? { uses } : {}) }
        : { kind: 'api', scopes: flags.scope };
      if (ttl !== undefined) body.ttl_seconds = ttl;
      if (flags.description) body.description = flags.description;
      if (flags.durable) body.durable = true;
      if (flags.acmeEab) body.acme_eab = true;
      await withTokens(flags, async (b) => {
        const created = await b.create(body, flags.owner);
        const eab = created.acme_eab ?? null;
        if (flags.acmeEab && eab === null) {
          throw new CliError(
            'the server made the token but answered no ACME EAB key: it is older than this CLI',
          );
        }
        if (flags.json) printJson(created);
        else {
          process.stdout.write(`${created.token}\n`);
          if (eab)
            process.stdout.write(`ACME EAB key id:   ${eab.kid}\nACME EAB HMAC key: ${eab.hmac_key}\n`);
          process.stderr.write(
            `Token ${created.record.id} (${created.record.kind}${created.record.name_pattern ? ` for ${created.record.name_pattern}` : ''}${created.record.expires_at ? `, expires ${created.record.expires_at}` : ''}). It is shown only this once.\n`,
          );
        }
      });
    });

  targetOptions(token.command('list'))
    .description('list tokens (never their secrets), with last-used times')
    .option('--all', 'include revoked tokens')
    .option('--json', 'machine-readable output')
    .action(async (flags: TargetFlags & { all?: boolean; json?: boolean }) =>
      withTokens(flags, async (b) => {
        const tokens = await b.list(flags.all === true);
        if (flags.json) printJson(tokens);
        else if (tokens.length === 0) process.stdout.write('No tokens.\n');
        else
          printTable(
            tokens.map((t) => [
              t.id,
              t.kind,
              safe(t.owner),
              safe(t.name_pattern ?? t.scopes.join(' ')),
              t.uses_left === null ? '-' : String(t.uses_left),
              t.expires_at ?? 'never',
              t.last_used_at ?? 'never',
              t.revoked_at ? 'revoked' : 'active',
            ]),
            ['ID', 'KIND', 'OWNER', 'SCOPES/NAMES', 'USES', 'EXPIRES', 'LAST USED', 'STATE'],
          );
      }),
    );

  targetOptions(token.command('revoke'))
    .description('revoke a token by its id (tok_...)')
    .argument('<id>')
    .action(async (id: string, flags: TargetFlags) =>
      withTokens(flags, async (b) => {
        const r = await b.revoke(id);
        if (!r) throw new CliError(`there is no token with id "${id}"`);
        process.stdout.write(`Revoked ${r.id}\n`);
      }),
    );
}
