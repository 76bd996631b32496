/** The JSON shape of an API or enrollment token record, shared by the API and the CLI. Never the secret. */
import type { TokenRecord } from './domain/identities.js';

export function tokenJson(t: TokenRecord) {
  return {
    id: t.id,
    kind: t.kind,
    owner: t.owner,
    scopes: t.scopes,
    name_pattern: t.namePattern,
    uses_left: t.usesLeft,
    description: t.description,
    created_at: t.createdAt.toISOString(),
    expires_at: t.expiresAt?.toISOString() ?? null,
    last_used_at: t.lastUsedAt?.toISOString() ?? null,
    revoked_at: t.revokedAt?.toISOString() ?? null,
    family_id: t.familyId,
  };
}
export type TokenView = ReturnType<typeof tokenJson>;
