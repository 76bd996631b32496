/**
 * Where `certmaster login` keeps tokens: one JSON file, 0600, in a 0700 directory under the
 * user's config directory (XDG_CONFIG_HOME, or ~/.config). CERTMASTER_CONFIG_DIR overrides it.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ensurePrivateDir, writeFileDurable } from '../util/durable-files.js';

export interface StoredSession {
  user: string;
  accessToken: string;
  /** ISO time. */
  accessTokenExpiresAt: string;
  refreshToken: string | null;
  /** The CA pinned at login, PEM. */
  caPem: string;
}

interface CredentialsFile {
  version: 1;
  servers: Record<string, StoredSession>;
}

export function configDir(): string {
  if (process.env.CERTMASTER_CONFIG_DIR) return process.env.CERTMASTER_CONFIG_DIR;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'certmaster');
}

function credentialsPath(): string {
  return join(configDir(), 'credentials.json');
}

function read(): CredentialsFile {
  const path = credentialsPath();
  if (!existsSync(path)) return { version: 1, servers: {} };
  if ((statSync(path).mode & 0o077) !== 0) {
    throw new Error(`${path} is readable by others; run \`chmod 600 ${path}\` (it holds your tokens)`);
  }
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as CredentialsFile;
    if (parsed.version !== 1 || typeof parsed.servers !== 'object') throw new Error('unknown format');
    return parsed;
  } catch {
    throw new Error(
      `${path} is not a certmaster credentials file; remove it and run \`certmaster login\` again`,
    );
  }
}

export function loadSession(origin: string): StoredSession | null {
  return read().servers[origin] ?? null;
}

export function saveSession(origin: string, session: StoredSession): void {
  const file = read();
  file.servers[origin] = session;
  ensurePrivateDir(configDir());
  writeFileDurable(credentialsPath(), `${JSON.stringify(file, null, 2)}\n`, 0o600);
}

export function removeSession(origin: string): StoredSession | null {
  const file = read();
  const old = file.servers[origin] ?? null;
  if (!old) return null;
  delete file.servers[origin];
  ensurePrivateDir(configDir());
  writeFileDurable(credentialsPath(), `${JSON.stringify(file, null, 2)}\n`, 0o600);
  return old;
}
