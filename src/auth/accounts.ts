/**
 * Accounts: creating them, setting passwords (policy, argon2id, and digest secrets when enabled),
 * enabling and disabling. Used by the local CLI and by the HTTP API alike.
 */

import type { AuthStore, UserRecord } from '../store/identities/auth-store.js';
import type { Clock, Role } from '../types.js';
import { checkPassword, normalizePassword } from './password-policy.js';
import type { PasswordHasher } from './passwords.js';
import { computeHA1, type DigestAlgorithm } from './schemes/digest.js';
import type { SecretBox } from './secret-box.js';

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

export class AccountError extends Error {}

/** Sealed digest secrets: H(A1) per algorithm, bound to the realm they were computed for. */
export interface DigestSecrets {
  realm: string;
  ha1: Partial<Record<DigestAlgorithm, string>>;
}

function digestContext(username: string): string {
  return `digest-secrets:${username}`;
}

export function sealDigestSecrets(
  box: SecretBox,
  username: string,
  realm: string,
  password: string,
  algorithms: DigestAlgorithm[],
): string {
  const normalized = normalizePassword(password);
  const ha1: DigestSecrets['ha1'] = {};
  // Every algorithm is stored so that enabling one later needs no password reset.
  for (const alg of new Set<DigestAlgorithm>(['SHA-256', 'SHA-512-256', 'MD5', ...algorithms])) {
    ha1[alg] = computeHA1(alg, username, realm, normalized);
  }
  return box.seal(JSON.stringify({ realm, ha1 } satisfies DigestSecrets), digestContext(username));
}

export function openDigestSecrets(box: SecretBox, user: UserRecord): DigestSecrets | null {
  if (!user.digestSecrets) return null;
  try {
    return JSON.parse(
      box.open(user.digestSecrets, digestContext(user.name)).toString('utf8'),
    ) as DigestSecrets;
  } catch {
    return null;
  }
}

export interface AccountDeps {
  store: AuthStore;
  hasher: PasswordHasher;
  box: SecretBox;
  clock: Clock;
  realm: () => string;
}

export function checkUsername(name: string): void {
  if (!USERNAME_PATTERN.test(name)) {
    throw new AccountError(
      `"${name.slice(0, 80)}" is not a valid account name: use 1 to 64 letters, digits, ".", "_", "@" or "-", starting with a letter or digit`,
    );
  }
}

export async function createAccount(
  deps: AccountDeps,
  input: { name: string; role: Role; password: string; digest: boolean; namePatterns?: string[] },
): Promise<UserRecord> {
  checkUsername(input.name);
  checkPassword(input.password, { username: input.name });
  const now = deps.clock.now();
  const user: UserRecord = {
    name: input.name,
    role: input.role,
    passwordHash: await deps.hasher.hash(input.password),
    digestSecrets: input.digest
      ? sealDigestSecrets(deps.box, input.name, deps.realm(), input.password, ['SHA-256'])
      : null,
    disabled: false,
    namePatterns: input.namePatterns ?? (input.role === 'host' ? [input.name.toLowerCase()] : []),
    createdAt: now,
    updatedAt: now,
    passwordChangedAt: now,
  };
  await deps.store.createUser(user);
  return user;
}

export async function setPassword(
  deps: AccountDeps,
  name: string,
  password: string,
  options: { digest?: boolean } = {},
): Promise<UserRecord> {
  const user = await deps.store.getUser(name);
  if (!user) throw new AccountError(`there is no account named "${name}"`);
  checkPassword(password, { username: name });
  const digest = options.digest ?? user.digestSecrets !== null;
  const now = deps.clock.now();
  const updated = await deps.store.updateUser(
    name,
    {
      passwordHash: await deps.hasher.hash(password),
      digestSecrets: digest ? sealDigestSecrets(deps.box, name, deps.realm(), password, ['SHA-256']) : null,
      passwordChangedAt: now,
    },
    now,
  );
  if (!updated) throw new AccountError(`there is no account named "${name}"`);
  return updated;
}
