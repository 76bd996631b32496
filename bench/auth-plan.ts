/**
 * What the auth suite runs and against which targets (issue 11), shared by the suite and its report.
 */
import type { AuthScenario } from './auth-scenarios.js';

export type ServerKind = 'audited' | 'noop' | 'flood' | 'fastify';
export type PairedKey = 'bare' | 'bearer' | 'bare401' | 'anonymous401';

export const CONCURRENCY = 32;
export const FLOOD_CONCURRENCY = 16;
export const LEGIT_CONCURRENCY = 4;
export const FLOOD_ADDRESS = '127.0.0.2';
/** How long each target's turn lasts when several share one load generator. */
export const SLICE_SECONDS = 0.5;
/** The flood lasts until the legitimate client is done; this only bounds it. */
export const FLOOD_MAX_SECONDS = 60;
/** The password hasher's default bound on argon2 runs at once (src/auth/passwords.ts). */
export const HASHER_CONCURRENCY = 2;
export const LOAD_SLACK_MS = 60_000;
export const STOP_GRACE_MS = 15_000;
export const TARGET_BEARER_VS_BARE = 0.6;
export const TARGET_REFUSAL_VS_BARE_401 = 0.8;
export const TARGET_AUDITED_VS_NOOP = 0.85;
export const TARGET_FLOOD_P99_MS = 50;
/** Issue 11: the legitimate client's rate falls by less than a quarter under the flood. */
export const TARGET_FLOOD_RATE_DROP = 0.25;
/** Keycloak's sizing guide plans about 120 of each grant per vCPU; the target is five times that. */
export const TARGET_GRANTS_PER_CORE = 600;

export const PAIRED: ReadonlyArray<readonly [PairedKey, AuthScenario]> = [
  ['bare', 'bare'],
  ['bearer', 'bearer'],
  ['bare401', 'bare-401'],
  ['anonymous401', 'anonymous-401'],
];

export const LABELS: Record<AuthScenario, string> = {
  bare: 'GET /__bench/bare (200, no auth, no audit)',
  'bare-401': 'GET /__bench/bare-401 (fixed 401)',
  bearer: 'GET /v1/whoami, Bearer access token',
  'anonymous-401': 'GET /v1/whoami, no credentials: 401',
  basic: 'GET /v1/whoami, Basic (verification cache)',
  digest: 'GET /v1/whoami, Digest SHA-256',
  'client-credentials': 'POST /oauth/token client_credentials',
  'refresh-token': 'POST /oauth/token refresh_token',
  flood: 'flood: wrong Basic passwords from 127.0.0.2',
};
