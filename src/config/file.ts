/**
 * Reading and writing DIR/certmaster.toml. Every write is validated first and replaces the file
 * atomically, so a crash or a bad value never leaves a half-written or invalid configuration.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fchmodSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse, stringify, TomlError } from 'smol-toml';
import { quoteForDisplay } from '../domain/names.js';
import {
  type Config,
  ConfigError,
  findSetting,
  getSetting,
  parseConfig,
  SETTINGS,
  type SettingInfo,
  type SettingValue,
  unknownKeyError,
} from './schema.js';

export { getSetting, listSettings } from './schema.js';

/** A configuration file is a few kilobytes; anything near this is not one. */
const MAX_FILE_BYTES = 1024 * 1024;

const HEADER = [
  '# certmaster configuration.',
  '# Change it with `certmaster config set KEY VALUE`, which validates the value and rewrites this file;',
  '# `certmaster config list` shows every setting. Comments written by hand are not kept.',
  '# A setting shown commented out has its default value.',
];

/** Reads the raw TOML table; a missing file is an empty one (every setting at its default). */
function readToml(path: string): Record<string, unknown> {
  let text: string;
  try {
    if (statSync(path).size > MAX_FILE_BYTES) {
      throw new ConfigError(
        'unreadable',
        `${path} is larger than ${MAX_FILE_BYTES} bytes; it is not a configuration file`,
        {
          file: path,
        },
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new ConfigError('unreadable', `cannot read ${path}: ${code ?? (err as Error).message}`, {
      file: path,
    });
  }
  try {
    return parse(text);
  } catch (err) {
    if (err instanceof TomlError) {
      // Only the first line: the rest quotes the file, which may hold a database password.
      const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
      throw new ConfigError('syntax', `${path}:${err.line}:${err.column}: not valid TOML: ${reason}`, {
        file: path,
      });
    }
    throw err;
  }
}

/**
 * Loads and validates the configuration. Missing keys (or a missing file) take their defaults;
 * unknown keys and bad values throw a ConfigError naming the key, the value and the file.
 */
export function loadConfig(path: string): Config {
  return parseConfig(readToml(path), path);
}

function renderSetting(setting: SettingInfo, value: SettingValue): string[] {
  const name = setting.key.slice(setting.key.indexOf('.') + 1);
  const line = stringify({ [name]: value }).trim();
  return [
    `# ${setting.description}`,
    `# Allowed: ${setting.allowed}. Default: ${String(setting.default)}.`,
    value === setting.default ? `# ${line}` : line,
  ];
}

/** The file's text: every setting documented, the ones at their default commented out. */
export function renderConfig(config: Config): string {
  const lines = [...HEADER];
  let section = '';
  for (const setting of SETTINGS) {
    const current = setting.key.slice(0, setting.key.indexOf('.'));
    if (current !== section) {
      section = current;
      lines.push('', `[${section}]`);
    } else {
      lines.push('');
    }
    lines.push(...renderSetting(setting, getSetting(config, setting.key)));
  }
  return `${lines.join('\n')}\n`;
}

/** Replaces `path` atomically: a temporary file in the same directory, fsync, rename, fsync the directory. */
function writeFileAtomically(path: string, text: string): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temp, 'wx', 0o600);
  try {
    try {
      // The umask may have narrowed the mode; make sure it is exactly owner read/write.
      fchmodSync(fd, 0o600);
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (err) {
    try {
      unlinkSync(temp);
    } catch {
      // The temporary file may already be gone; the original error is the one that matters.
    }
    throw err;
  }
  // Without this the rename itself may not survive a crash.
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Validates `config` and writes it as TOML, atomically, mode 0600. */
export function writeConfig(path: string, config: Config): void {
  const valid = parseConfig(config);
  writeFileAtomically(path, renderConfig(valid));
}

function parseRaw(setting: SettingInfo, raw: string): SettingValue | null {
  const text = raw.trim();
  switch (setting.type) {
    case 'boolean': {
      const lower = text.toLowerCase();
      if (lower === 'true') return true;
      if (lower === 'false') return false;
      return null;
    }
    case 'integer':
      return /^[+-]?[0-9]{1,15}$/.test(text) ? Number(text) : null;
    case 'number':
      return /^[+-]?([0-9]{1,15}(\.[0-9]{0,15})?|\.[0-9]{1,15})$/.test(text) ? Number(text) : null;
    case 'string':
      return text;
  }
}

/** The refusal for a value given on the command line: key, value and what is allowed, in one line. */
function refuseValue(setting: SettingInfo, raw: string, path: string, detail?: string): ConfigError {
  const shown = setting.key === 'store.url' ? '(the given URL)' : quoteForDisplay(raw, 200);
  const why = detail ? ` (${detail})` : '';
  return new ConfigError(
    'invalid_value',
    `${setting.key}: ${shown} is not allowed; use ${setting.allowed}${why}`,
    {
      key: setting.key,
      value: setting.key === 'store.url' ? undefined : raw,
      allowed: setting.allowed,
      file: path,
    },
  );
}

/**
 * Sets one key from its command-line text, validates the whole resulting configuration, writes it
 * atomically and returns it. On any refusal the file is left as it was.
 */
export function setSetting(path: string, key: string, raw: string): Config {
  const setting = findSetting(key);
  if (!setting) throw unknownKeyError(key);
  const value = parseRaw(setting, raw);
  if (value === null) throw refuseValue(setting, raw, path);

  // Work on the raw table rather than a loaded Config, so `set` can repair a key that is invalid in the file.
  const table = readToml(path);
  const [section, name] = setting.key.split('.') as [string, string];
  const existing = table[section];
  const sectionTable =
    existing !== null && typeof existing === 'object' && !Array.isArray(existing) ? { ...existing } : {};
  table[section] = { ...sectionTable, [name]: value };

  let config: Config;
  try {
    config = parseConfig(table, path);
  } catch (err) {
    if (err instanceof ConfigError && err.key === setting.key) {
      // Numbers and booleans are fully described by "allowed"; a string check says which part is wrong.
      throw refuseValue(setting, raw, path, setting.type === 'string' ? err.detail : undefined);
    }
    throw err;
  }
  writeFileAtomically(path, renderConfig(config));
  return config;
}
