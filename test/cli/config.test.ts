/**
 * `certmaster config` opens its data directory the way every other command does (openDataDir): an
 * initialised directory or a refusal, never the defaults of a directory that is not one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { initDataDir } from '../../src/instance/init.js';
import { systemClock } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const src = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, 'src', path)).href);

/** `certmaster config` in a process of its own, its errors told as src/cli/main.ts tells them. */
const DRIVER = `
import { Command } from 'commander';
const { registerConfig, CliError } = await import(${src('cli/config.js')});
const { ConfigError } = await import(${src('config/schema.js')});
const { DataDirError } = await import(${src('instance/load.js')});
const program = new Command().name('certmaster').exitOverride();
registerConfig(program);
try {
  await program.parseAsync(process.argv.slice(1), { from: 'user' });
} catch (e) {
  if (!(e instanceof CliError || e instanceof ConfigError || e instanceof DataDirError)) throw e;
  process.stderr.write('certmaster: ' + e.message + '\\n');
  process.exit(1);
}
`;

function config(...args: string[]) {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', DRIVER, 'config', ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('certmaster config', () => {
  const tmp = tempDir('config-cli');
  const data = join(tmp.path, 'data');
  const notData = join(tmp.path, 'not-data');

  before(async () => {
    await initDataDir({
      dataDir: data,
      keyType: 'ec-p256',
      caSubject: 'CN=config cli CA',
      caValidityDays: 365,
      serverValidityDays: 30,
      serverNames: [],
      clock: systemClock,
    });
    mkdirSync(notData);
  });

  after(() => tmp.remove());

  it('gets, sets and lists the settings of a data directory', () => {
    const set = config('set', 'ra.autosign', '*.web.example.com', '--data', data);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'ra.autosign = *.web.example.com\n');
    assert.equal(config('get', 'ra.autosign', '--data', data).stdout, '*.web.example.com\n');
    const list = config('list', '--data', data, '--json');
    assert.equal(list.code, 0, list.stderr);
    const settings = JSON.parse(list.stdout) as Array<{ key: string; value: unknown }>;
    assert.equal(settings.find((s) => s.key === 'ra.autosign')?.value, '*.web.example.com');
  });

  it('set repairs a setting that keeps the file from loading; get says what is wrong with it', () => {
    const path = join(data, 'certmaster.toml');
    writeFileSync(path, readFileSync(path, 'utf8').replace(/^\[ra\]$/m, '[ra]\nmax_names = -3'));
    const get = config('get', 'ra.max_names', '--data', data);
    assert.equal(get.code, 1);
    assert.match(get.stderr, /^certmaster: .*ra\.max_names/);
    const set = config('set', 'ra.max_names', '20', '--data', data);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(config('get', 'ra.max_names', '--data', data).stdout, '20\n');
  });

  it('refuses a directory that is not an initialised data directory, and writes nothing there', () => {
    for (const args of [['list'], ['get', 'ra.autosign'], ['set', 'ra.autosign', 'all']]) {
      const run = config(...args, '--data', notData);
      assert.equal(run.code, 1, args.join(' '));
      assert.equal(run.stdout, '');
      assert.match(run.stderr, /is not an initialised certmaster data directory/);
    }
    assert.throws(() => readFileSync(join(notData, 'certmaster.toml')), /ENOENT/);
  });
});
