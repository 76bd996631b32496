/**
 * `certmaster doctor`: finds the misconfigurations that turn into 401s (and failed handshakes)
 * before users meet them, each with the fix. It reads the data directory and, given a peer, that
 * peer's clock; it changes nothing except what opening the store does (pending migrations apply).
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { openDigestSecrets } from '../auth/accounts.js';
import { SecretBox } from '../auth/secret-box.js';
import { isEncryptedKeyPem } from '../ca/key-encryption.js';
import type { RevocationStore } from '../ca/revocation-port.js';
import { loadConfig } from '../config/file.js';
import { type Config, ConfigError, parseListenAddress } from '../config/schema.js';
import { isInitialized } from '../instance/init.js';
import { type DataLayout, dataLayout, resolveStoreUrl } from '../instance/layout.js';
import type { Store } from '../store/certificates/store.js';
import type { AuthStore } from '../store/identities/auth-store.js';
import { LATEST_SCHEMA_VERSION } from '../store/migrations/index.js';
import { openStore, parseStoreUrl } from '../store/open.js';
import { type Clock, systemClock } from '../types.js';
import { isLoopbackAddress } from '../util/address.js';
import { pemBlocks } from '../util/pem.js';
import { printable, shellWord } from './explain/index.js';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  message: string;
  /** What to do, for warn and fail; null when all is well. */
  fix: string | null;
}

export interface DoctorOptions {
  dataDir: string;
  /** Another certmaster (or any HTTP server) whose Date header the local clock is compared with. */
  peer?: string;
  clock?: Clock;
  /** How long the store and the peer may take to answer. */
  timeoutMs?: number;
}

const DAY_MS = 86_400_000;
export const CERTIFICATE_WARN_DAYS = 30;
export const CERTIFICATE_FAIL_DAYS = 7;
export const SKEW_WARN_SECONDS = 30;
export const SKEW_FAIL_SECONDS = 300;
/** A retiring signing key this close to leaving the JWKS, with nothing to replace it, is worth a warning. */
const SIGNING_KEY_WARN_MS = DAY_MS;
/** Users whose digest secrets are checked; names listed in one message. */
const MAX_USERS_CHECKED = 10_000;
const MAX_NAMES_SHOWN = 10;
const DEFAULT_TIMEOUT_MS = 10_000;

type StoreForDoctor = Pick<Store, 'health' | 'close'> &
  Pick<AuthStore, 'listUsers' | 'listSigningKeys'> &
  Pick<RevocationStore, 'latestCrl'>;

function ok(check: string, message: string): CheckResult {
  return { check, status: 'ok', message, fix: null };
}
function warn(check: string, message: string, fix: string): CheckResult {
  return { check, status: 'warn', message, fix };
}
function fail(check: string, message: string, fix: string): CheckResult {
  return { check, status: 'fail', message, fix };
}

/** Runs every check; the order is the order of the report. */
export async function runDoctor(options: DoctorOptions): Promise<CheckResult[]> {
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const layout = dataLayout(options.dataDir);
  const dir = shellWord(options.dataDir);
  if (!isInitialized(layout.root)) {
    return [
      fail(
        'data-dir',
        `${layout.root} is not an initialised certmaster data directory`,
        `give the server's data directory, or create one: certmaster init --data ${dir}`,
      ),
    ];
  }
  const results: CheckResult[] = [];
  const configResult = checkConfig(layout, dir);
  results.push(configResult.result);
  const config = configResult.config;
  results.push(checkPermissions(layout));
  results.push(checkCaKeyAtRest(layout, dir));
  results.push(checkCertificate('ca-certificate', layout.caCertificate, 'the CA certificate', clock));
  results.push(
    checkCertificate('server-certificate', layout.serverCertificate, 'the server certificate', clock),
  );
  if (config === null) {
    const skipped = 'not checked: certmaster.toml does not load';
    const fix = 'fix the configuration first (see the config check)';
    for (const check of ['basic-over-plain-http', 'store', 'digest-realm', 'signing-keys', 'crl']) {
      results.push(warn(check, skipped, fix));
    }
  } else {
    results.push(checkBasicOverPlainHttp(config, dir));
    const opened = await openStoreChecked(layout, config, timeoutMs);
    results.push(opened.result);
    if (opened.store === null) {
      results.push(warn('digest-realm', 'not checked: the store is not available', 'fix the store first'));
      results.push(warn('signing-keys', 'not checked: the store is not available', 'fix the store first'));
      results.push(warn('crl', 'not checked: the store is not available', 'fix the store first'));
    } else {
      try {
        results.push(await checkDigestRealm(opened.store, layout, config, dir));
        results.push(await checkSigningKeys(opened.store, clock));
        results.push(await checkCrl(opened.store, clock, dir));
      } finally {
        await opened.store.close();
      }
    }
  }
  if (options.peer !== undefined) results.push(await checkClockSkew(options.peer, layout, clock, timeoutMs));
  return results;
}

/** An expired CRL makes every relying party that checks it refuse every certificate of this CA. */
async function checkCrl(store: StoreForDoctor, clock: Clock, dir: string): Promise<CheckResult> {
  const crl = await store.latestCrl();
  const serve = `start the server (certmaster serve --data ${dir}): it publishes the CRL and rebuilds it halfway to nextUpdate`;
  if (crl === null) return ok('crl', 'no CRL yet; certmaster serve publishes one when it starts');
  const now = clock.now().getTime();
  const at = `CRL number ${crl.crlNumber}, nextUpdate ${crl.nextUpdate.toISOString()}`;
  if (now >= crl.nextUpdate.getTime()) {
    return fail('crl', `${at}: expired; relying parties that check it refuse every certificate`, serve);
  }
  if (now >= (crl.thisUpdate.getTime() + crl.nextUpdate.getTime()) / 2) {
    return warn('crl', `${at}: past halfway and not rebuilt; no server is refreshing it`, serve);
  }
  return ok('crl', `${at}`);
}

export function doctorFailed(results: CheckResult[]): boolean {
  return results.some((r) => r.status === 'fail');
}

/** One line per check, `ok|warn|fail  name: message`, with the fix indented below for warn and fail. */
export function renderDoctor(results: CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.status.padEnd(4)}  ${r.check}: ${r.message}`);
    if (r.status !== 'ok' && r.fix !== null) {
      for (const line of r.fix.split('\n')) lines.push(`      ${line}`);
    }
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  lines.push(
    '',
    failed > 0
      ? `${failed} check${failed === 1 ? '' : 's'} failed${warned > 0 ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}.`
      : warned > 0
        ? `No check failed; ${warned} warning${warned === 1 ? '' : 's'}.`
        : 'Every check passed.',
  );
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------

function checkConfig(layout: DataLayout, dir: string): { result: CheckResult; config: Config | null } {
  try {
    const config = loadConfig(layout.config);
    return { result: ok('config', `${layout.config} is valid`), config };
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    const fix =
      e.key !== undefined && e.allowed !== undefined
        ? `set it to ${e.allowed}: certmaster config set ${e.key} VALUE --data ${dir}`
        : `correct ${layout.config} (certmaster config list --data ${dir} shows every setting; config set KEY VALUE rewrites the file)`;
    return { result: fail('config', e.message, fix), config: null };
  }
}

/** Says whether the CA key is under a passphrase; unencrypted is the zero-setup default, not a fault. */
function checkCaKeyAtRest(layout: DataLayout, dir: string): CheckResult {
  let pem: string;
  try {
    pem = readFileSync(layout.caKey, 'utf8');
  } catch (e) {
    return fail(
      'ca-key',
      `${layout.caKey} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      `restore ${layout.caKey} from backup`,
    );
  }
  return isEncryptedKeyPem(pem)
    ? ok(
        'ca-key',
        'the CA key is encrypted with a passphrase (PKCS#8, PBES2: PBKDF2-HMAC-SHA256 and AES-256-CBC); serve needs CERTMASTER_CA_PASSPHRASE[_FILE], --ca-passphrase-file or a terminal',
      )
    : ok(
        'ca-key',
        `the CA key is stored unencrypted (PKCS#8, protected by its file mode); to put it under a passphrase: certmaster ca encrypt-key --data ${dir}`,
      );
}

/** Directories 0700 and private keys 0600: group or other bits on them are a finding each. */
function checkPermissions(layout: DataLayout): CheckResult {
  const wanted: Array<{ path: string; mode: 0o700 | 0o600 }> = [
    { path: layout.root, mode: 0o700 },
    { path: layout.caDir, mode: 0o700 },
    { path: layout.caKey, mode: 0o600 },
    { path: layout.serverDir, mode: 0o700 },
    { path: layout.serverKey, mode: 0o600 },
  ];
  if (existsSync(layout.secretsDir)) {
    wanted.push({ path: layout.secretsDir, mode: 0o700 });
    for (const entry of readdirSync(layout.secretsDir).sort()) {
      if (entry.endsWith('.key')) wanted.push({ path: join(layout.secretsDir, entry), mode: 0o600 });
    }
  }
  const problems: string[] = [];
  const fixes: string[] = [];
  for (const { path, mode } of wanted) {
    let actual: number;
    try {
      actual = statSync(path).mode & 0o777;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && (path === layout.caKey || path === layout.serverKey)) {
        problems.push(`${path} is missing`);
        fixes.push(`restore ${path} from backup`);
      } else if (code !== 'ENOENT') {
        problems.push(`${path} cannot be read (${code ?? 'error'})`);
        fixes.push(`make ${path} readable by the user that runs certmaster`);
      }
      continue;
    }
    if ((actual & 0o077) !== 0) {
      problems.push(`${path} is mode ${actual.toString(8).padStart(4, '0')}, readable by others`);
      fixes.push(`chmod ${mode.toString(8)} ${shellWord(path)}`);
    }
  }
  if (problems.length === 0) {
    return ok('permissions', 'the data directory and private keys are readable by their owner only');
  }
  return fail('permissions', problems.join('; '), fixes.join('\n'));
}

function checkCertificate(check: string, path: string, what: string, clock: Clock): CheckResult {
  let cert: X509Certificate;
  try {
    const der = pemBlocks(readFileSync(path, 'utf8'), 'CERTIFICATE')[0];
    if (der === undefined) throw new Error('no PEM certificate in it');
    cert = new X509Certificate(der);
  } catch (e) {
    return fail(
      check,
      `${what} ${path} does not load: ${(e as Error).message}`,
      `restore ${path} from backup`,
    );
  }
  const now = clock.now().getTime();
  const notAfter = new Date(cert.validTo);
  const notBefore = new Date(cert.validFrom);
  const days = (notAfter.getTime() - now) / DAY_MS;
  const renew =
    check === 'ca-certificate'
      ? `a CA cannot be extended: create a new one (certmaster init --data NEWDIR) and move hosts to it before ${notAfter.toISOString()}; every host must trust the new CA`
      : `replace ${shellWord(path)} and its key server.key beside it with a certificate from this CA for the server's names (keep the key 0600), then restart certmaster serve`;
  if (notAfter.getTime() <= now) {
    return fail(check, `${what} expired at ${notAfter.toISOString()}: TLS clients refuse it`, renew);
  }
  if (notBefore.getTime() > now) {
    return fail(
      check,
      `${what} is not valid before ${notBefore.toISOString()}, which is in the future: this machine's clock is behind`,
      'synchronise the clock with NTP (timedatectl set-ntp true)',
    );
  }
  const left = `expires in ${Math.floor(days)} days (${notAfter.toISOString()})`;
  if (days < CERTIFICATE_FAIL_DAYS) return fail(check, `${what} ${left}`, renew);
  if (days < CERTIFICATE_WARN_DAYS) return warn(check, `${what} ${left}`, renew);
  return ok(check, `${what} ${left}`);
}

/** Basic over plain HTTP is refused except from loopback: on a listener others reach, it is a 401 for them all. */
function checkBasicOverPlainHttp(config: Config, dir: string): CheckResult {
  const check = 'basic-over-plain-http';
  let host: string;
  try {
    host = parseListenAddress(config.server.listen).host;
  } catch (e) {
    return fail(
      check,
      `server.listen does not parse: ${(e as Error).message}`,
      `certmaster config set server.listen 127.0.0.1:8443 --data ${dir}`,
    );
  }
  const loopback = host === 'localhost' || isLoopbackAddress(host);
  if (!config.server.plain_http) return ok(check, 'the server speaks HTTPS');
  if (loopback) return ok(check, `plain HTTP, but only on loopback (${config.server.listen})`);
  if (!config.auth.basic) {
    return ok(check, `plain HTTP on ${config.server.listen} with Basic off (a TLS proxy should be in front)`);
  }
  return fail(
    check,
    `server.plain_http is true, server.listen ${config.server.listen} is not loopback and auth.basic is true: Basic from any other machine is refused (401 scheme_unsupported), and would send passwords in the clear`,
    `serve HTTPS: certmaster config set server.plain_http false --data ${dir}\nor, behind a TLS-terminating proxy, turn Basic off and use tokens: certmaster config set auth.basic false --data ${dir}`,
  );
}

async function openStoreChecked(
  layout: DataLayout,
  config: Config,
  timeoutMs: number,
): Promise<{ result: CheckResult; store: StoreForDoctor | null }> {
  const url = resolveStoreUrl(config.store.url, layout.root);
  const where = /^postgres/i.test(url) ? 'the PostgreSQL store' : `the store ${url.replace(/^sqlite:/, '')}`;
  const location = parseStoreUrl(url);
  if (location.kind === 'sqlite' && !existsSync(location.path)) {
    // Opening would create an empty database, and the server would start with no accounts or records.
    return {
      result: fail(
        'store',
        `the store file ${location.path} does not exist: a server started now would begin with an empty database`,
        'restore the database from backup, or correct store.url',
      ),
      store: null,
    };
  }
  let store: StoreForDoctor;
  try {
    store = await withTimeout(
      openStore(url, { writerThread: false }),
      timeoutMs,
      `${where} did not answer within ${timeoutMs / 1000} s`,
    );
  } catch (e) {
    const message = (e as Error).message;
    return {
      result: fail(
        'store',
        `${where} cannot be opened: ${printable(message, 300)}`,
        /newer than this certmaster/.test(message)
          ? 'upgrade certmaster to the version that migrated this store'
          : 'check store.url, that the database is up and reachable, and the file permissions',
      ),
      store: null,
    };
  }
  let health: { ok: boolean; schemaVersion: number };
  try {
    health = await withTimeout(
      store.health(),
      timeoutMs,
      `${where} did not answer within ${timeoutMs / 1000} s`,
    );
  } catch (e) {
    await store.close().catch(() => undefined);
    return {
      result: fail(
        'store',
        `${where} does not answer: ${printable((e as Error).message, 300)}`,
        'check that the database is up and reachable',
      ),
      store: null,
    };
  }
  if (!health.ok) {
    await store.close();
    return {
      result: fail('store', `${where} does not answer`, 'check that the database is up and reachable'),
      store: null,
    };
  }
  if (health.schemaVersion < LATEST_SCHEMA_VERSION) {
    return {
      result: fail(
        'store',
        `${where} has schema version ${health.schemaVersion}; this certmaster needs ${LATEST_SCHEMA_VERSION} (migrations pending)`,
        'start certmaster serve (or any command) with this version once: it applies the migrations',
      ),
      store,
    };
  }
  if (health.schemaVersion > LATEST_SCHEMA_VERSION) {
    return {
      result: fail(
        'store',
        `${where} has schema version ${health.schemaVersion}, newer than this certmaster (${LATEST_SCHEMA_VERSION})`,
        'upgrade certmaster to the version that migrated this store',
      ),
      store,
    };
  }
  return { result: ok('store', `${where} answers, schema version ${health.schemaVersion} (current)`), store };
}

/**
 * Digest secrets are H(A1) over the realm (RFC 7616 §3.4.2): after auth.realm changes, or sealed with
 * another key, they can never match, and every Digest sign-in of those accounts is a 401.
 */
async function checkDigestRealm(
  store: StoreForDoctor,
  layout: DataLayout,
  config: Config,
  dir: string,
): Promise<CheckResult> {
  const check = 'digest-realm';
  const users = (await store.listUsers()).slice(0, MAX_USERS_CHECKED).filter((u) => u.digestSecrets !== null);
  if (users.length === 0) return ok(check, 'no account has digest secrets');
  if (!existsSync(layout.authKey)) {
    return fail(
      check,
      `${users.length} account(s) have digest secrets, but ${layout.authKey} is missing: none of them can open`,
      `restore ${layout.authKey} from backup (mode 0600), or set each password again with --digest`,
    );
  }
  let box: SecretBox;
  try {
    box = SecretBox.loadOrCreate(layout.authKey);
  } catch (e) {
    return fail(
      check,
      `the key that seals digest secrets does not load: ${(e as Error).message}`,
      `restore ${layout.authKey} from backup, mode 0600`,
    );
  }
  const realm = config.auth.realm;
  const otherRealm: Array<{ name: string; realm: string }> = [];
  const sealedElsewhere: string[] = [];
  for (const user of users) {
    const secrets = openDigestSecrets(box, user);
    if (secrets === null) sealedElsewhere.push(user.name);
    else if (secrets.realm !== realm) otherRealm.push({ name: user.name, realm: secrets.realm });
  }
  if (otherRealm.length === 0 && sealedElsewhere.length === 0) {
    return ok(check, `${users.length} account(s) have digest secrets for realm "${realm}"`);
  }
  const problems: string[] = [];
  if (otherRealm.length > 0) {
    const was = [...new Set(otherRealm.map((u) => `"${printable(u.realm, 100)}"`))].join(', ');
    problems.push(
      `auth.realm is "${realm}" but the digest secrets of ${listNames(otherRealm.map((u) => u.name))} were made for realm ${was}`,
    );
  }
  if (sealedElsewhere.length > 0) {
    problems.push(
      `the digest secrets of ${listNames(sealedElsewhere)} do not open with ${layout.authKey} (sealed with another key)`,
    );
  }
  const names = [...otherRealm.map((u) => u.name), ...sealedElsewhere];
  const previous = otherRealm[0]?.realm;
  const fix = [
    'set these passwords again with --digest (Digest sign-ins of these accounts fail until then):',
    ...names
      .slice(0, MAX_NAMES_SHOWN)
      .map((n) => `certmaster user passwd ${shellWord(n)} --digest --data ${dir}`),
    ...(previous !== undefined
      ? [`or set the realm back: certmaster config set auth.realm ${shellWord(previous)} --data ${dir}`]
      : []),
  ].join('\n');
  const message = `${problems.join('; ')}: their Digest sign-ins are refused (401 credentials_invalid)`;
  return config.auth.digest
    ? fail(check, message, fix)
    : warn(check, `${message} once auth.digest is on`, fix);
}

function listNames(names: string[]): string {
  const shown = names.slice(0, MAX_NAMES_SHOWN).map((n) => printable(n, 80));
  return names.length > MAX_NAMES_SHOWN
    ? `${shown.join(', ')} and ${names.length - MAX_NAMES_SHOWN} more`
    : shown.join(', ');
}

/** Access tokens need a key that signs now; a ring that only holds retired keys makes every login fail. */
async function checkSigningKeys(store: StoreForDoctor, clock: Clock): Promise<CheckResult> {
  const check = 'signing-keys';
  const keys = await store.listSigningKeys();
  if (keys.length === 0)
    return ok(check, 'no access-token signing key yet; certmaster serve creates one when it starts');
  const now = clock.now().getTime();
  const published = (k: (typeof keys)[number]) => k.removeAfter === null || k.removeAfter.getTime() > now;
  const usable = keys.filter(
    (k) =>
      k.notBefore.getTime() <= now && (k.retiredAt === null || k.retiredAt.getTime() > now) && published(k),
  );
  const restart = 'restart certmaster serve: it creates a new signing key when none can sign';
  if (usable.length === 0) {
    return fail(
      check,
      `none of the ${keys.length} access-token signing key(s) can sign now (all retired, removed or not yet valid): logins and token refreshes fail`,
      restart,
    );
  }
  const newest = [...usable].sort((a, b) => b.notBefore.getTime() - a.notBefore.getTime())[0];
  if (newest !== undefined && newest.retiredAt !== null) {
    const ends = Math.min(
      newest.retiredAt.getTime(),
      newest.removeAfter?.getTime() ?? Number.POSITIVE_INFINITY,
    );
    if (ends - now < SIGNING_KEY_WARN_MS) {
      return warn(
        check,
        `the newest signing key ${newest.kid} is retiring at ${new Date(ends).toISOString()} and no newer key exists`,
        restart,
      );
    }
  }
  return ok(check, `${usable.length} signing key(s) usable; newest ${newest?.kid ?? ''}`);
}

// ---------------------------------------------------------------------------------------------
// The clock, compared with a peer's Date header (RFC 9110 §6.6.1; one-second resolution).

async function checkClockSkew(
  peer: string,
  layout: DataLayout,
  clock: Clock,
  timeoutMs: number,
): Promise<CheckResult> {
  const check = 'clock';
  let url: URL;
  try {
    url = new URL('/healthz', peer);
  } catch {
    return fail(check, `--peer "${printable(peer, 100)}" is not a URL`, 'give the peer as https://HOST:PORT');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return fail(
      check,
      `--peer "${printable(peer, 100)}" is not an http(s) URL`,
      'give the peer as https://HOST:PORT',
    );
  }
  let answer: { date: string | undefined; sentAt: number; receivedAt: number };
  try {
    answer = await peerDate(url, layout, clock, timeoutMs);
  } catch (e) {
    return fail(
      check,
      `could not read the clock of ${url.origin}: ${printable((e as Error).message, 200)}`,
      'check the --peer URL and that the peer is up',
    );
  }
  const peerTime = answer.date === undefined ? Number.NaN : Date.parse(answer.date);
  if (Number.isNaN(peerTime)) {
    return fail(
      check,
      `${url.origin} sent no usable Date header`,
      'give a peer that is an HTTP server (another certmaster)',
    );
  }
  // The peer stamped its Date somewhere between our send and receive: compare with the midpoint.
  const local = (answer.sentAt + answer.receivedAt) / 2;
  const skew = Math.round((peerTime - local) / 1000);
  const size = Math.abs(skew);
  const direction = skew > 0 ? 'behind' : 'ahead of';
  const message = `this machine's clock is ${size} s ${direction} ${url.origin} (round trip ${answer.receivedAt - answer.sentAt} ms)`;
  const fix =
    'synchronise both clocks with NTP (timedatectl set-ntp true, or chronyc makestep); tokens and nonces are refused as not yet valid or expired while clocks disagree';
  if (size > SKEW_FAIL_SECONDS) return fail(check, message, fix);
  if (size > SKEW_WARN_SECONDS) return warn(check, message, fix);
  return ok(check, `${message}: within ${SKEW_WARN_SECONDS} s`);
}

function peerDate(
  url: URL,
  layout: DataLayout,
  clock: Clock,
  timeoutMs: number,
): Promise<{ date: string | undefined; sentAt: number; receivedAt: number }> {
  // Trust this CA (a peer replica's certificate comes from it) as well as the public roots.
  const ca = [...rootCertificates];
  try {
    ca.push(readFileSync(layout.caCertificate, 'utf8'));
  } catch {
    // Without the CA file the public roots still apply; the certificate check reports the file.
  }
  return new Promise((resolve, reject) => {
    const sentAt = clock.now().getTime();
    const options = { method: 'HEAD', timeout: timeoutMs, ...(url.protocol === 'https:' ? { ca } : {}) };
    const onResponse = (res: http.IncomingMessage) => {
      const receivedAt = clock.now().getTime();
      res.resume();
      resolve({ date: res.headers.date, sentAt, receivedAt });
    };
    const req =
      url.protocol === 'https:'
        ? https.request(url, options, onResponse)
        : http.request(url, options, onResponse);
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on('error', reject);
    req.end();
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
