/**
 * The settings in DIR/certmaster.toml: one zod schema that gives each key its default, its
 * validation message and its documentation. Keys are addressed as "section.name". Each section's
 * keys live in sections/; the kinds of setting in setting-kinds.ts.
 */
import { z } from 'zod';
import { quoteForDisplay } from '../domain/names.js';
import { ConfigError, displayValue, editDistance } from './config-error.js';
import { authShape, webhooksShape } from './sections/access.js';
import { acmeShape, estShape } from './sections/doors.js';
import { caShape, raShape, triggersShape } from './sections/issuance.js';
import { auditShape, metricsShape, serverShape, storeShape } from './sections/service.js';
import { docs, type SettingType, type SettingValue } from './setting-kinds.js';

/** Re-exported for the code that splits a checked address setting; it lives in src/domain/listen-address.ts. */
export { parseListenAddress } from '../domain/listen-address.js';
export { ConfigError, type ConfigErrorCode, displayValue } from './config-error.js';
export type { SettingType, SettingValue };

const SHAPES = {
  server: serverShape,
  store: storeShape,
  ca: caShape,
  ra: raShape,
  triggers: triggersShape,
  auth: authShape,
  metrics: metricsShape,
  audit: auditShape,
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
  audit: z.strictObject(auditShape).prefault({}),
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
  if (inner instanceof z.ZodNumber) return inner.isInt ? 'integer' : 'number';
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
