/**
 * `certmaster init`: a data directory with a store, a root CA, a server certificate for the
 * service itself, and a configuration file. It refuses to touch a directory that holds anything, and
 * builds the new one in a staging sibling renamed into place last, so an interrupted init leaves nothing.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { createAccount } from '../auth/accounts.js';
import { PasswordHasher } from '../auth/passwords.js';
import { CertificateAuthority } from '../ca/authority.js';
import { createRootCa } from '../ca/root.js';
import { writeConfig } from '../config/file.js';
import { defaultConfig } from '../config/schema.js';
import { parseIpAddress, validateDnsName } from '../domain/names.js';
import { openStore } from '../store/open.js';
import type { Clock, KeyType } from '../types.js';
import { ensurePrivateDir, writeFileDurable } from '../util/durable-files.js';
import { generateKeyPair, privateKeyToPem } from '../util/keys.js';
import { derToPem } from '../util/pem.js';
import { openSecretBox } from './front-door.js';
import { type DataLayout, dataLayout, resolveStoreUrl } from './layout.js';
import { caFingerprint } from './load.js';
import { clearAbandonedStaging, crashPoint, promoteStaging, stagingDirFor } from './staging.js';

export interface InitOptions {
  dataDir: string;
  keyType: KeyType;
  caSubject: string;
  caValidityDays: number;
  serverValidityDays: number;
  /** Extra names for the server certificate, besides localhost, 127.0.0.1, ::1 and the host name. */
  serverNames: string[];
  storeUrl?: string;
  listen?: string;
  /** The first administrator; its password is generated (and returned once) when none is given. */
  admin?: { name: string; password: string | null; digest: boolean };
  clock: Clock;
}

export class InitRefused extends Error {}

const TRIGGER_EVENTS = ['request', 'sign', 'reject', 'revoke', 'clean'] as const;

export function isInitialized(dir: string): boolean {
  return existsSync(dataLayout(dir).initialized);
}

/** True when DIR does not exist or holds nothing, so `serve` may initialise it. */
export function isEmptyDir(dir: string): boolean {
  return !existsSync(dir) || readdirSync(dir).length === 0;
}

export async function initDataDir(
  options: InitOptions,
): Promise<{ layout: DataLayout; fingerprint: string; generatedAdminPassword: string | null }> {
  const layout = dataLayout(options.dataDir);
  if (isInitialized(layout.root)) {
    const fp = caFingerprint(layout);
    throw new InitRefused(
      `${layout.root} is already initialised (CA SHA-256 fingerprint ${fp}); nothing was changed. To start over, move that directory away first.`,
    );
  }
  if (!isEmptyDir(layout.root)) {
    throw new InitRefused(
      `${layout.root} is not empty and holds no complete certmaster data directory (an earlier init may have been interrupted); nothing was changed. Choose an empty directory, or remove this one.`,
    );
  }
  const serverNames = checkServerNames(options.serverNames);
  clearAbandonedStaging(layout.root);
  const staging = stagingDirFor(layout.root);
  try {
    const built = await buildDataDir(dataLayout(staging), serverNames, options);
    crashPoint('before-rename');
    promoteStaging(staging, layout.root);
    return { layout, ...built };
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
}

async function buildDataDir(
  layout: DataLayout,
  serverNames: { dns: string[]; ip: string[] },
  options: InitOptions,
): Promise<{ fingerprint: string; generatedAdminPassword: string | null }> {
  ensurePrivateDir(layout.root);
  ensurePrivateDir(layout.caDir);
  ensurePrivateDir(layout.serverDir);
  const config = defaultConfig();
  if (options.storeUrl) config.store.url = options.storeUrl;
  if (options.listen) config.server.listen = options.listen;
  for (const event of TRIGGER_EVENTS) {
    for (const phase of ['pre', 'post'])
      ensurePrivateDir(resolve(layout.root, config.triggers.dir, event, phase));
  }
  writeConfig(layout.config, config);

  const store = await openStore(resolveStoreUrl(config.store.url, layout.root), { writerThread: false });
  let adminPassword: string | null = null;
  try {
    if (options.admin) {
      const box = openSecretBox(layout);
      const a = config.auth;
      const hasher = new PasswordHasher({
        params: {
          memoryKiB: a.argon2_memory_kib,
          iterations: a.argon2_iterations,
          parallelism: a.argon2_parallelism,
        },
      });
      adminPassword = options.admin.password ?? randomBytes(20).toString('base64url');
      await createAccount(
        { store, hasher, box, clock: options.clock, realm: () => config.auth.realm },
        { name: options.admin.name, role: 'admin', password: adminPassword, digest: options.admin.digest },
      );
      if (options.admin.password) adminPassword = null;
    }
  } finally {
    await store.close();
  }
  crashPoint('after-store');

  const root = await createRootCa({
    keyType: options.keyType,
    subject: options.caSubject,
    validityDays: options.caValidityDays,
    clock: options.clock,
  });
  writeFileDurable(layout.caKey, privateKeyToPem(root.privateKey), 0o600);
  writeFileDurable(layout.caCertificate, derToPem(root.certificateDer, 'CERTIFICATE'), 0o644);
  crashPoint('after-ca');
  const ca = new CertificateAuthority(root.certificateDer, root.privateKey);

  // The service's own TLS key is always EC P-256: fast handshakes whatever the CA's key type.
  const server = generateKeyPair('ec-p256');
  const leaf = ca.issueLeaf({
    commonName: 'localhost',
    dnsNames: serverNames.dns,
    ipAddresses: serverNames.ip,
    spki: createPublicKey(server.privateKey).export({ format: 'der', type: 'spki' }),
    validityDays: options.serverValidityDays,
    now: options.clock.now(),
    profile: { serverAuth: true, clientAuth: false },
  });
  writeFileDurable(layout.serverKey, privateKeyToPem(server.privateKey), 0o600);
  writeFileDurable(layout.serverCertificate, leaf.pem + ca.certificatePem, 0o644);
  writeFileDurable(layout.initialized, `${options.clock.now().toISOString()}\n`, 0o600);
  return { fingerprint: ca.fingerprintSha256, generatedAdminPassword: adminPassword };
}

function checkServerNames(extra: string[]): { dns: string[]; ip: string[] } {
  const dns = new Set<string>(['localhost']);
  const ip = new Set<string>(['127.0.0.1', '::1']);
  const host = hostname().toLowerCase();
  if (typeof validateDnsName(host, { allowWildcard: false }) === 'string') dns.add(host);
  for (const name of extra) {
    const addr = parseIpAddress(name);
    if (addr) {
      ip.add(addr);
      continue;
    }
    const checked = validateDnsName(name, { allowWildcard: false });
    if (typeof checked !== 'string') throw new InitRefused(`--san ${checked.reason}`);
    dns.add(checked);
  }
  return { dns: [...dns], ip: [...ip] };
}
