/** The JSON shape of an API or enrollment token record, shared by the API and the CLI. Never the secret. */
import type { TokenRecord } from './store/identities/auth-store.js';

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

/** "90s", "15m", "1h", "7d", or plain seconds. */
export function parseDuration(text: string): number | null {
  const m = /^(\d{1,9})\s*([smhd]?)$/.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return n > 0 ? n * unit : null;
}
