import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadConfig, setSetting, writeConfig } from '../../src/config/file.js';
import { ConfigError, defaultConfig } from '../../src/config/schema.js';

let root: string;
/** A fresh data directory per test, so tests share nothing. */
function dataDir(): string {
  return mkdtempSync(join(root, 'data-'));
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

before(() => {
  root = mkdtempSync(join(tmpdir(), 'certmaster-config-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

describe('loadConfig', () => {
  it('gives the defaults when the file does not exist', () => {
    assert.deepEqual(loadConfig(join(dataDir(), 'certmaster.toml')), defaultConfig());
  });

  it('reads what is set and defaults the rest', () => {
    const path = join(dataDir(), 'certmaster.toml');
    writeFileSync(path, '# mine\n[ra]\nautosign = "*.web.example.com"\nmax_names = 5\n');
    const config = loadConfig(path);
    assert.equal(config.ra.autosign, '*.web.example.com');
    assert.equal(config.ra.max_names, 5);
    assert.equal(config.ca.leaf_validity_days, 90);
  });

  it('names the key, value, file and rule of a bad value', () => {
    const path = join(dataDir(), 'certmaster.toml');
    writeFileSync(path, '[ra]\nmax_names = 0\n');
    const err = configError(() => loadConfig(path));
    assert.equal(err.message, `ra.max_names = 0 in ${path}: must be between 1 and 100`);
    assert.equal(err.file, path);
  });

  it('refuses an unknown key and suggests the closest one', () => {
    const path = join(dataDir(), 'certmaster.toml');
    writeFileSync(path, '[ra]\nautosing = "all"\n');
    assert.equal(
      configError(() => loadConfig(path)).message,
      `unknown setting "ra.autosing" in ${path}; did you mean ra.autosign?`,
    );
  });

  it('reports a TOML syntax error by line and column without quoting the file', () => {
    const path = join(dataDir(), 'certmaster.toml');
    writeFileSync(path, '[store]\nurl = "postgres://u:s3cret@db/x\n');
    const err = configError(() => loadConfig(path));
    assert.equal(err.code, 'syntax');
    assert.match(err.message, new RegExp(`^${path}:2:\\d+: not valid TOML: `));
    assert.doesNotMatch(err.message, /s3cret/);
  });
});

describe('writeConfig', () => {
  it('writes a documented TOML file, mode 0600, that loads back to the same config', () => {
    const dir = dataDir();
    const path = join(dir, 'certmaster.toml');
    const config = defaultConfig();
    config.ra.autosign = '*.web.example.com';
    config.server.listen = '[::1]:9443';
    writeConfig(path, config);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(loadConfig(path), config);
    const text = readFileSync(path, 'utf8');
    assert.match(text, /^# certmaster configuration/);
    assert.match(text, /\[ra\]\n/);
    assert.match(text, /\nautosign = "\*\.web\.example\.com"\n/);
    assert.match(text, /\n# max_names = 20\n/, 'a default is written commented out');
    assert.match(
      text,
      /# Allowed: off, all, or comma-separated name patterns such as \*\.web\.example\.com\./,
    );
    assert.deepEqual(readdirSync(dir), ['certmaster.toml'], 'no temporary file is left behind');
  });

  it('refuses to write an invalid config', () => {
    const path = join(dataDir(), 'certmaster.toml');
    const config = defaultConfig();
    config.ra.max_names = 0;
    assert.throws(() => writeConfig(path, config), ConfigError);
    assert.throws(() => statSync(path), /ENOENT/);
  });
});

describe('setSetting', () => {
  it('parses the value by the key type, writes the file and returns the config', () => {
    const path = join(dataDir(), 'certmaster.toml');
    writeConfig(path, defaultConfig());
    assert.equal(setSetting(path, 'ra.max_names', '7').ra.max_names, 7);
    assert.equal(setSetting(path, 'ra.anonymous_requests', 'false').ra.anonymous_requests, false);
    const config = setSetting(path, 'ra.autosign', '*.web.example.com,db1.example.com');
    assert.equal(config.ra.autosign, '*.web.example.com,db1.example.com');
    assert.deepEqual(loadConfig(path), config);
    assert.equal(loadConfig(path).ra.max_names, 7);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  it('takes a decimal for a number setting and a duration for the renewal grace period', () => {
    const path = join(dataDir(), 'certmaster.toml');
    writeConfig(path, defaultConfig());
    assert.equal(setSetting(path, 'ra.renew_window', '0.5').ra.renew_window, 0.5);
    assert.equal(setSetting(path, 'ra.renew_window', '0').ra.renew_window, 0);
    assert.equal(setSetting(path, 'ra.renew_after_expiry', '7d').ra.renew_after_expiry, '7d');
    assert.equal(loadConfig(path).ra.renew_window, 0);
  });

  it('creates the file when it does not exist yet', () => {
    const path = join(dataDir(), 'certmaster.toml');
    setSetting(path, 'ca.leaf_validity_days', '30');
    assert.equal(loadConfig(path).ca.leaf_validity_days, 30);
  });

  const refusals: Array<[string, string, string]> = [
    [
      'ra.autosign',
      '*.*.x',
      'ra.autosign: "*.*.x" is not allowed; use off, all, or comma-separated name patterns such as *.web.example.com ("*.*.x" has "*" where it is not allowed; a wildcard may only be the whole leftmost label, as in "*.example.com")',
    ],
    ['ra.max_names', '0', 'ra.max_names: "0" is not allowed; use a whole number from 1 to 100'],
    ['ra.max_names', 'twenty', 'ra.max_names: "twenty" is not allowed; use a whole number from 1 to 100'],
    ['ra.max_names', '2.5', 'ra.max_names: "2.5" is not allowed; use a whole number from 1 to 100'],
    [
      'ra.renew_window',
      '1.5',
      'ra.renew_window: "1.5" is not allowed; use a number from 0 to 0.99, such as 0.66',
    ],
    [
      'ra.renew_window',
      'half',
      'ra.renew_window: "half" is not allowed; use a number from 0 to 0.99, such as 0.66',
    ],
    [
      'ra.renew_after_expiry',
      '2w',
      'ra.renew_after_expiry: "2w" is not allowed; use none, or a duration such as 30m, 12h or 7d (at most 90d) ("2w" is not none, or a duration such as 30m, 12h or 7d (at most 90d))',
    ],
    ['ra.allow_wildcards', 'yes', 'ra.allow_wildcards: "yes" is not allowed; use true or false'],
    [
      'server.listen',
      'localhost',
      'server.listen: "localhost" is not allowed; use HOST:PORT, such as 127.0.0.1:8443 or [::1]:8443 (expected HOST:PORT, with an IPv6 address in brackets as in [::1]:8443)',
    ],
  ];
  for (const [key, raw, message] of refusals) {
    it(`refuses ${key} = ${JSON.stringify(raw)} and leaves the file unchanged`, () => {
      const dir = dataDir();
      const path = join(dir, 'certmaster.toml');
      writeConfig(path, defaultConfig());
      const before = readFileSync(path);
      const err = configError(() => setSetting(path, key, raw));
      assert.equal(err.message, message);
      assert.equal(err.key, key);
      assert.deepEqual(readFileSync(path), before);
      assert.deepEqual(readdirSync(dir), ['certmaster.toml']);
    });
  }

  it('refuses an unknown key, naming the closest one', () => {
    const path = join(dataDir(), 'certmaster.toml');
    const err = configError(() => setSetting(path, 'ra.maxnames', '5'));
    assert.equal(err.message, 'unknown setting "ra.maxnames"; did you mean ra.max_names?');
    assert.throws(() => statSync(path), /ENOENT/);
  });

  it('can repair the very key that makes the file invalid, but not another one', () => {
    const path = join(dataDir(), 'certmaster.toml');
    writeFileSync(path, '[ra]\nmax_names = 0\n');
    const other = configError(() => setSetting(path, 'ra.allow_wildcards', 'true'));
    assert.equal(other.message, `ra.max_names = 0 in ${path}: must be between 1 and 100`);
    assert.equal(setSetting(path, 'ra.max_names', '10').ra.max_names, 10);
    assert.equal(loadConfig(path).ra.max_names, 10);
  });

  it('does not echo a database URL that is refused', () => {
    const path = join(dataDir(), 'certmaster.toml');
    const err = configError(() => setSetting(path, 'store.url', 'mysql://admin:s3cret@db/x'));
    assert.doesNotMatch(err.message, /s3cret/);
    assert.match(err.message, /^store\.url: \(the given URL\) is not allowed; use sqlite:PATH/);
  });
});
