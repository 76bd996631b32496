/**
 * The settings in DIR/certmaster.toml: one zod schema that gives each key its default, its
 * validation message and its documentation. Keys are addressed as "section.name".
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { parseLabelProfiles } from '../ca/profiles.js';
import { parseThresholds, parseWebhookUrls } from '../ops/webhooks.js';
import { AUTOSIGN_ALLOWED, parseAutosign } from '../ra/autosign.js';
import { isNameProblem, quoteForDisplay, validateDnsName } from '../ra/names.js';
import { parseReservedNames, RESERVED_NAMES_ALLOWED } from '../ra/reserved-names.js';

export type SettingType = 'integer' | 'boolean' | 'string';
export type SettingValue = number | boolean | string;

interface SettingDoc {
  description: string;
  /** What the key accepts, as a phrase: "a whole number from 1 to 100". */
  allowed: string;
}

const docs = z.registry<SettingDoc>();

function integerSetting(min: number, max: number, fallback: number, description: string) {
  const range = `must be between ${min} and ${max}`;
  const whole = `must be a whole number between ${min} and ${max}`;
  return z
    .number({ error: whole })
    .int({ error: whole })
    .min(min, { error: range })
    .max(max, { error: range })
    .default(fallback)
    .register(docs, { description, allowed: `a whole number from ${min} to ${max}` });
}

function booleanSetting(fallback: boolean, description: string) {
  return z
    .boolean({ error: 'must be true or false' })
    .default(fallback)
    .register(docs, { description, allowed: 'true or false' });
}

/** A string setting whose `check` returns null when the value is fine, else why it is not. */
function stringSetting(
  fallback: string,
  allowed: string,
  description: string,
  check: (value: string) => string | null,
) {
  return z
    .string({ error: `must be a string: ${allowed}` })
    .max(4096, { error: 'must be at most 4096 characters long' })
    .superRefine((value, ctx) => {
      const why = check(value);
      if (why !== null) ctx.addIssue({ code: 'custom', message: why });
    })
    .default(fallback)
    .register(docs, { description, allowed });
}

/** Splits "HOST:PORT" ("[::1]:8443" for IPv6); throws an Error saying what is wrong. */
export function parseListenAddress(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):([0-9]{1,5})$/.exec(text);
  if (!match) throw new Error('expected HOST:PORT, with an IPv6 address in brackets as in [::1]:8443');
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new Error(`port ${port} is outside 1..65535`);
  const bracketed = match[1];
  if (bracketed !== undefined) {
    if (isIP(bracketed) !== 6 || bracketed.includes('%')) {
      throw new Error(`${quoteForDisplay(bracketed)} is not an IPv6 address`);
    }
    return { host: bracketed, port };
  }
  const host = match[2] ?? '';
  if (isIP(host) === 4) return { host, port };
  const checked = validateDnsName(host, { allowWildcard: false });
  if (isNameProblem(checked)) throw new Error(checked.reason);
  return { host: checked, port };
}

function checkListen(value: string): string | null {
  try {
    parseListenAddress(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function checkOptionalListen(value: string): string | null {
  return value === '' ? null : checkListen(value);
}

function checkPublicUrl(value: string): string | null {
  if (value === '') return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an http:// or https:// URL, such as https://ca.example.com:8443';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must start with http:// or https://';
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '')
    return 'must have no query, fragment or credentials';
  return null;
}

function checkStoreUrl(value: string): string | null {
  if (/^sqlite:/i.test(value)) {
    const path = value.slice('sqlite:'.length);
    if (path === '') return 'sqlite: needs a file path, as in sqlite:certmaster.db';
    // biome-ignore lint/suspicious/noControlCharactersInRegex: a path with control characters is refused
    if (/[\u0000-\u001f]/.test(path)) return 'the file path contains a control character';
    return null;
  }
  if (/^postgres(ql)?:\/\//i.test(value)) {
    try {
      const url = new URL(value);
      if (url.hostname === '' && !url.searchParams.has('host')) return 'the PostgreSQL URL names no host';
      return null;
    } catch {
      return 'the PostgreSQL URL does not parse';
    }
  }
  return 'must start with sqlite: or postgres:// (or postgresql://)';
}

function checkReservedNames(value: string): string | null {
  try {
    parseReservedNames(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function checkAutosign(value: string): string | null {
  try {
    parseAutosign(value);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

function checkRelativeOrAbsolutePath(value: string): string | null {
  if (value === '') return 'must not be empty';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a path with control characters is refused
  if (/[\u0000-\u001f]/.test(value)) return 'the path contains a control character';
  return null;
}

const serverShape = {
  listen: stringSetting(
    '127.0.0.1:8443',
    'HOST:PORT, such as 127.0.0.1:8443 or [::1]:8443',
    'Address and port that `certmaster serve` listens on (HTTPS). --listen overrides it.',
    checkListen,
  ),
  body_limit_bytes: integerSetting(1024, 10485760, 65536, 'Largest request body the server reads, in bytes.'),
  plain_http: booleanSetting(
    false,
    'Serve plain HTTP instead of HTTPS (behind a TLS-terminating proxy); Basic is then refused except from loopback. --insecure-http does the same for one run.',
  ),
  public_http_listen: stringSetting(
    '',
    'empty (off), or HOST:PORT such as 0.0.0.0:8080',
    'A second, plain-HTTP listener for relying parties that serves only /ca.pem, /ca.crt, /crl, /crl.pem and /ocsp; the URLs put in certificates use it when set.',
    checkOptionalListen,
  ),
};

const storeShape = {
  url: stringSetting(
    'sqlite:certmaster.db',
    'sqlite:PATH (relative to the data directory), or a postgres:// or postgresql:// URL',
    'Where requests and certificates are kept: an SQLite file, or PostgreSQL for several servers.',
    checkStoreUrl,
  ),
};

const caShape = {
  leaf_validity_days: integerSetting(
    1,
    3650,
    90,
    "Lifetime of issued certificates, in days; never beyond the CA certificate's own notAfter.",
  ),
  public_url: stringSetting(
    '',
    'empty (off), or an http:// or https:// URL such as https://ca.example.com:8443',
    'How relying parties reach this server: when set, issued certificates carry CRL distribution point and AIA (OCSP, caIssuers) URLs under it (over http:// on the server.public_http_listen port when that is set).',
    checkPublicUrl,
  ),
  crl_next_update_hours: integerSetting(
    1,
    168,
    24,
    "Hours between a CRL's thisUpdate and nextUpdate; a new CRL is built halfway, and at once after a revocation.",
  ),
  ocsp_next_update_minutes: integerSetting(
    1,
    10080,
    60,
    "Minutes between an OCSP response's thisUpdate and nextUpdate (and the HTTP max-age of a GET answer).",
  ),
};

const raShape = {
  autosign: stringSetting(
    'off',
    AUTOSIGN_ALLOWED,
    'Which requests are signed without an operator: off, all, or the names patterns allow ("*.web.example.com" allows exactly one more label).',
    checkAutosign,
  ),
  reserved_names: stringSetting(
    '',
    RESERVED_NAMES_ALLOWED,
    "Names only an operator signs, never autosign, a host account or a token (the server's own names and loopback names always are).",
    checkReservedNames,
  ),
  anonymous_requests: booleanSetting(
    true,
    'Whether a CSR may be submitted without credentials; anonymous requests are only signed by autosign or an operator.',
  ),
  allow_wildcards: booleanSetting(
    false,
    'Whether a request may ask for a wildcard name such as *.example.com.',
  ),
  max_names: integerSetting(
    1,
    100,
    20,
    'Most names in one certificate: the common name plus SANs, after de-duplication.',
  ),
  min_rsa_bits: integerSetting(2048, 8192, 2048, 'Smallest RSA key accepted in a request, in bits.'),
  allow_duplicate_certificates: booleanSetting(
    false,
    "Whether a host may get a new certificate while it holds a valid one (Puppet's allow-duplicate-certs).",
  ),
  pending_retry_after_seconds: integerSetting(
    1,
    3600,
    10,
    'Retry-After, in seconds, told to clients whose request is pending.',
  ),
};

const triggersShape = {
  dir: stringSetting(
    'triggers',
    'a directory path (relative to the data directory)',
    'Directory of trigger scripts: <dir>/<event>/<pre|post>/, as in Func certmaster.',
    checkRelativeOrAbsolutePath,
  ),
  timeout_seconds: integerSetting(
    1,
    600,
    10,
    'How long one trigger may run before it is killed, in seconds.',
  ),
};

const DIGEST_ALGORITHMS = ['SHA-256', 'SHA-512-256', 'MD5'];

function checkDigestAlgorithms(value: string): string | null {
  const list = value.split(',').map((a) => a.trim());
  if (list.length === 0 || list.some((a) => a === '')) return 'must name at least one algorithm';
  for (const a of list) {
    if (!DIGEST_ALGORITHMS.includes(a))
      return `${quoteForDisplay(a)} is not one of ${DIGEST_ALGORITHMS.join(', ')}`;
  }
  if (new Set(list).size !== list.length) return 'names an algorithm twice';
  return null;
}

function checkRealm(value: string): string | null {
  if (value === '' || value.length > 100) return 'must be 1 to 100 characters';
  if (!/^[\x20-\x7e]+$/.test(value) || /["\\]/.test(value))
    return 'must be printable ASCII without quotes or backslashes';
  return null;
}

const authShape = {
  realm: stringSetting(
    'certmaster',
    'printable ASCII without quotes, 1 to 100 characters',
    'Protection space named in every challenge. Changing it makes stored digest secrets useless (RFC 7616 §3.4.2 binds them to the realm).',
    checkRealm,
  ),
  basic: booleanSetting(true, 'Accept HTTP Basic (RFC 7617). Over plain HTTP only from loopback.'),
  digest: booleanSetting(true, 'Accept HTTP Digest (RFC 7616) for accounts that have digest secrets.'),
  digest_algorithms: stringSetting(
    'SHA-256',
    'a comma-separated list of SHA-256, SHA-512-256, MD5',
    'Digest algorithms offered; MD5 only for legacy clients.',
    checkDigestAlgorithms,
  ),
  bearer: booleanSetting(
    true,
    'Accept Bearer tokens (RFC 6750): OAuth access tokens, API and enrollment tokens.',
  ),
  access_token_ttl_seconds: integerSetting(60, 86400, 900, 'Lifetime of OAuth access tokens, in seconds.'),
  refresh_token_ttl_days: integerSetting(1, 365, 30, 'Lifetime of OAuth refresh tokens, in days.'),
  nonce_lifetime_seconds: integerSetting(
    10,
    3600,
    300,
    'How long a digest nonce stays fresh before the client is told stale=true.',
  ),
  argon2_memory_kib: integerSetting(
    19456,
    1048576,
    19456,
    'argon2id memory cost in KiB (OWASP minimum 19456).',
  ),
  argon2_iterations: integerSetting(2, 20, 2, 'argon2id time cost (OWASP minimum 2).'),
  argon2_parallelism: integerSetting(1, 8, 1, 'argon2id parallelism.'),
  throttle_free_failures: integerSetting(
    1,
    100,
    5,
    'Failed attempts from one address (or one address for one account) before delays start.',
  ),
  throttle_max_delay_seconds: integerSetting(
    1,
    86400,
    900,
    'Longest delay imposed after repeated failures; never a permanent lockout.',
  ),
};

const METRICS_ACCESS = ['loopback', 'scope', 'open'];

const metricsShape = {
  access: stringSetting(
    'loopback',
    'loopback, scope or open',
    'Who may read /metrics: loopback (callers on this host only; behind a reverse proxy on the same host that is everyone, so use scope), scope (credentials with audit:read), or open (anyone).',
    (value) => (METRICS_ACCESS.includes(value) ? null : `must be one of ${METRICS_ACCESS.join(', ')}`),
  ),
};

/** A check from a parser that throws an Error saying what is wrong. */
function checkBy(parse: (value: string) => unknown): (value: string) => string | null {
  return (value) => {
    try {
      parse(value);
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
}

const webhooksShape = {
  urls: stringSetting(
    '',
    'comma-separated https:// or http:// URLs, at most 10; empty for none',
    'Where expiry events are POSTed as JSON signed with Certmaster-Signature: sha256=HMAC; empty turns them off.',
    checkBy(parseWebhookUrls),
  ),
  secret_file: stringSetting(
    'secrets/webhook.key',
    'a file path (relative to the data directory)',
    'File holding the HMAC-SHA256 key that signs webhook bodies (at least 16 bytes; `openssl rand -hex 32`).',
    checkRelativeOrAbsolutePath,
  ),
  thresholds_days: stringSetting(
    '30,7,1',
    'comma-separated whole numbers of days from 1 to 3650, such as 30,7,1',
    'Days before expiry at which a webhook event is sent, once per item and threshold.',
    checkBy(parseThresholds),
  ),
  check_interval_seconds: integerSetting(
    60,
    86400,
    3600,
    'How often the server looks for things about to expire, in seconds.',
  ),
  max_attempts: integerSetting(
    1,
    20,
    8,
    'Attempts per webhook delivery (retried with backoff from 1 s to 5 min on network errors and 5xx).',
  ),
};

const estShape = {
  labels: stringSetting(
    '',
    'comma-separated LABEL=PROFILE pairs (profiles: tls, server, client), such as routers=client; empty for none',
    'EST labels (/.well-known/est/LABEL/..., RFC 7030 §3.2.2) and the certificate profile each issues: tls (serverAuth and clientAuth, as the unlabelled path), server, or client.',
    checkBy(parseLabelProfiles),
  ),
};

function checkResolver(value: string): string | null {
  if (value === '') return null;
  return checkListen(value);
}

/** ACME (RFC 8555): how challenges are validated and what an ACME account may order. */
const acmeShape = {
  http01_port: integerSetting(
    1,
    65535,
    80,
    'Port the http-01 validator connects to on the named host (RFC 8555 §8.3 says 80; tests use another).',
  ),
  resolver: stringSetting(
    '',
    'empty (the system resolver) or HOST:PORT of a DNS server',
    'DNS server the dns-01 and http-01 validators ask, as HOST:PORT; empty for the system resolver.',
    checkResolver,
  ),
  require_eab: booleanSetting(
    false,
    'Whether a new ACME account must be bound to an enrollment token by External Account Binding (RFC 8555 §7.3.4).',
  ),
  nonce_lifetime_seconds: integerSetting(
    10,
    86400,
    3600,
    'How long an ACME Replay-Nonce stays usable, in seconds.',
  ),
  max_nonces: integerSetting(
    1000,
    10_000_000,
    100_000,
    'Most unspent ACME nonces kept; beyond it the oldest are dropped (their clients retry after badNonce).',
  ),
  validation_timeout_seconds: integerSetting(
    1,
    60,
    10,
    'How long one challenge validation (HTTP fetch or DNS query) may take, in seconds.',
  ),
  orders_per_account_per_hour: integerSetting(
    1,
    1_000_000,
    300,
    'Most new orders one ACME account may place in an hour; more are refused with rateLimited and Retry-After.',
  ),
};

const SHAPES = {
  server: serverShape,
  store: storeShape,
  ca: caShape,
  ra: raShape,
  triggers: triggersShape,
  auth: authShape,
  metrics: metricsShape,
  webhooks: webhooksShape,
  est: estShape,
  acme: acmeShape,
};

export const ConfigSchema = z.strictObject({
  server: z.strictObject(serverShape).prefault({}),
  store: z.strictObject(storeShape).prefault({}),
  ca: z.strictObject(caShape).prefault({}),
  ra: z.strictObject(raShape).prefault({}),
  triggers: z.strictObject(triggersShape).prefault({}),
  auth: z.strictObject(authShape).prefault({}),
  metrics: z.strictObject(metricsShape).prefault({}),
  webhooks: z.strictObject(webhooksShape).prefault({}),
  est: z.strictObject(estShape).prefault({}),
  acme: z.strictObject(acmeShape).prefault({}),
});

export type Config = z.infer<typeof ConfigSchema>;
export type SectionName = keyof Config;
export type SettingKey = { [S in SectionName]: `${S}.${keyof Config[S] & string}` }[SectionName];

export interface SettingInfo {
  key: SettingKey;
  type: SettingType;
  description: string;
  default: SettingValue;
  /** Human text, e.g. "off, all, or comma-separated name patterns such as *.web.example.com". */
  allowed: string;
}

type LeafSchema = z.ZodDefault<z.ZodNumber | z.ZodBoolean | z.ZodString>;

function settingType(leaf: LeafSchema): SettingType {
  const inner = leaf.unwrap();
  if (inner instanceof z.ZodNumber) return 'integer';
  if (inner instanceof z.ZodBoolean) return 'boolean';
  return 'string';
}

function describeSettings(): SettingInfo[] {
  const out: SettingInfo[] = [];
  for (const [section, shape] of Object.entries(SHAPES)) {
    for (const [name, leaf] of Object.entries(shape) as Array<[string, LeafSchema]>) {
      const doc = docs.get(leaf);
      if (!doc) throw new Error(`setting ${section}.${name} has no documentation`);
      out.push({
        key: `${section}.${name}` as SettingKey,
        type: settingType(leaf),
        description: doc.description,
        default: leaf.def.defaultValue as SettingValue,
        allowed: doc.allowed,
      });
    }
  }
  return out;
}

/** Every setting, in file order, with its documentation. */
export const SETTINGS: readonly SettingInfo[] = Object.freeze(describeSettings());

const SETTING_BY_KEY = new Map<string, SettingInfo>(SETTINGS.map((s) => [s.key, s]));

export function findSetting(key: string): SettingInfo | undefined {
  return SETTING_BY_KEY.get(key);
}

export function defaultConfig(): Config {
  return ConfigSchema.parse({});
}

export type ConfigErrorCode = 'unknown_key' | 'invalid_value' | 'syntax' | 'unreadable';

/** A configuration problem, with one message an operator can act on. */
export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly key: string | undefined;
  /** The offending value (a store URL with its password hidden). */
  readonly value: unknown;
  readonly allowed: string | undefined;
  readonly file: string | undefined;
  /** What is wrong with the value, without key or file: "must be between 1 and 100". */
  readonly detail: string | undefined;

  constructor(
    code: ConfigErrorCode,
    message: string,
    extra: { key?: string; value?: unknown; allowed?: string; file?: string; detail?: string } = {},
  ) {
    super(message);
    this.name = 'ConfigError';
    this.code = code;
    this.key = extra.key;
    this.value = extra.value;
    this.allowed = extra.allowed;
    this.file = extra.file;
    this.detail = extra.detail;
  }
}

/** A value as TOML would show it, with a database password hidden. */
export function displayValue(key: string, value: unknown): string {
  const shown = key === 'store.url' && typeof value === 'string' ? redactUrlPassword(value) : value;
  if (typeof shown === 'string') return quoteForDisplay(shown, 200);
  if (typeof shown === 'number' || typeof shown === 'boolean') return String(shown);
  if (Array.isArray(shown)) return 'an array';
  if (shown !== null && typeof shown === 'object') return 'a table';
  return String(shown);
}

function redactUrlPassword(value: string): string {
  try {
    const url = new URL(value);
    if (url.password === '') return value;
    url.password = '****';
    return url.toString();
  } catch {
    return /@/.test(value) ? '(a URL with credentials, hidden)' : value;
  }
}

function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Number.POSITIVE_INFINITY;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(
        Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? Number.POSITIVE_INFINITY;
}

/** The known key closest to a mistyped one, if any is close enough to be a likely intent. */
export function closestSettingKey(key: string): SettingKey | undefined {
  const lower = key.toLowerCase().replace(/-/g, '_');
  const leaf = lower.slice(lower.lastIndexOf('.') + 1);
  let best: SettingKey | undefined;
  let bestScore = Number.POSITIVE_INFINITY;
  for (const setting of SETTINGS) {
    const knownLeaf = setting.key.slice(setting.key.indexOf('.') + 1);
    // A right name in the wrong section ("server.max_names", or "max_names" alone) is a near miss too.
    const score = Math.min(
      editDistance(lower, setting.key),
      leaf === knownLeaf ? 1 : Number.POSITIVE_INFINITY,
    );
    if (score < bestScore) {
      bestScore = score;
      best = setting.key;
    }
  }
  return bestScore <= Math.max(2, Math.floor(key.length / 4)) ? best : undefined;
}

/** The error for a key that is not a setting, naming the closest one or listing them all. */
export function unknownKeyError(key: string, file?: string): ConfigError {
  const where = file ? ` in ${file}` : '';
  const suggestion = closestSettingKey(key);
  const help = suggestion
    ? `did you mean ${suggestion}?`
    : `known settings: ${SETTINGS.map((s) => s.key).join(', ')}`;
  return new ConfigError('unknown_key', `unknown setting ${quoteForDisplay(key)}${where}; ${help}`, {
    key,
    ...(file ? { file } : {}),
  });
}

function isTable(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);
}

/** Refuses keys that are not settings, before the schema sees them, so the message can help. */
function checkKeys(input: Record<string, unknown>, file: string | undefined): void {
  for (const [section, body] of Object.entries(input)) {
    if (!Object.hasOwn(SHAPES, section)) {
      const first = isTable(body) ? Object.keys(body)[0] : undefined;
      throw unknownKeyError(first === undefined ? section : `${section}.${first}`, file);
    }
    if (!isTable(body)) {
      const where = file ? ` in ${file}` : '';
      throw new ConfigError(
        'invalid_value',
        `${section}${where}: must be a table of settings ([${section}])`,
        {
          key: section,
          ...(file ? { file } : {}),
        },
      );
    }
    for (const name of Object.keys(body)) {
      if (!findSetting(`${section}.${name}`)) throw unknownKeyError(`${section}.${name}`, file);
    }
  }
}

function valueAt(input: Record<string, unknown>, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const part of path) {
    if (!isTable(current)) return undefined;
    current = current[String(part)];
  }
  return current;
}

/**
 * Validates parsed TOML (or any plain object) and fills in defaults. The first problem is thrown as
 * a ConfigError such as `ra.max_names = 0 in /x/certmaster.toml: must be between 1 and 100`.
 */
export function parseConfig(input: unknown, file?: string): Config {
  if (!isTable(input)) {
    throw new ConfigError('invalid_value', `${file ?? 'configuration'}: must be a table of settings`, {
      ...(file ? { file } : {}),
    });
  }
  checkKeys(input, file);
  const result = ConfigSchema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const key = issue ? issue.path.map(String).join('.') : '';
  const value = issue ? valueAt(input, issue.path) : undefined;
  const where = file ? ` in ${file}` : '';
  const detail = issue?.message ?? 'is not valid';
  throw new ConfigError('invalid_value', `${key} = ${displayValue(key, value)}${where}: ${detail}`, {
    key,
    detail,
    value: key === 'store.url' ? displayValue(key, value) : value,
    ...(findSetting(key) ? { allowed: findSetting(key)?.allowed } : {}),
    ...(file ? { file } : {}),
  });
}

/** One setting's value by its dotted key; an unknown key throws a ConfigError. */
export function getSetting(config: Config, key: string): SettingValue {
  const setting = findSetting(key);
  if (!setting) throw unknownKeyError(key);
  const [section, name] = setting.key.split('.') as [SectionName, string];
  const value = (config[section] as Record<string, SettingValue>)[name];
  if (value === undefined) throw unknownKeyError(key);
  return value;
}

export interface SettingListing {
  key: SettingKey;
  value: SettingValue;
  default: SettingValue;
  description: string;
}

export function listSettings(config: Config): SettingListing[] {
  return SETTINGS.map((s) => ({
    key: s.key,
    value: getSetting(config, s.key),
    default: s.default,
    description: s.description,
  }));
}
