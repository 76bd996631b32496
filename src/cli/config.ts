import type { Command } from 'commander';
import { getSetting, listSettings, setSetting } from '../config/file.js';
import { ConfigError } from '../config/schema.js';
import { initialisedLayout, openDataDir } from '../instance/data-dir.js';
import { CliError, printJson, printTable } from './output.js';

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function configErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ConfigError) throw new CliError(e.message);
    throw e;
  }
}

export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('read and change settings in DIR/certmaster.toml (validated on every set)')
    .addHelpText(
      'after',
      '\nExamples:\n  certmaster config list --data DIR\n  certmaster config set ra.autosign "*.web.example.com" --data DIR\n  certmaster config get ca.leaf_validity_days --data DIR\n\nA running server reads the file again on SIGHUP (kill -HUP $(pidof certmaster) or systemctl reload).',
    );

  config
    .command('list')
    .description('every setting with its value, default and meaning')
    .requiredOption('--data <dir>', 'data directory')
    .option('--json', 'machine-readable output')
    .action((flags: { data: string; json?: boolean }) => {
      const settings = configErrors(() => listSettings(openDataDir(flags.data).config));
      if (flags.json) printJson(settings);
      else
        printTable(
          settings.map((s) => [s.key, show(s.value), show(s.default), s.description]),
          ['KEY', 'VALUE', 'DEFAULT', 'MEANING'],
        );
    });

  config
    .command('get')
    .description('print one setting')
    .argument('<key>')
    .requiredOption('--data <dir>', 'data directory')
    .action((key: string, flags: { data: string }) => {
      const value = configErrors(() => getSetting(openDataDir(flags.data).config, key));
      process.stdout.write(`${show(value)}\n`);
    });

  config
    .command('set')
    .description('change one setting; the value is checked before the file is written')
    .argument('<key>')
    .argument('<value>')
    .requiredOption('--data <dir>', 'data directory')
    .action((key: string, value: string, flags: { data: string }) => {
      const next = configErrors(() => setSetting(initialisedLayout(flags.data).config, key, value));
      process.stdout.write(`${key} = ${show(getSetting(next, key))}\n`);
      process.stderr.write('A running server applies this on SIGHUP or restart.\n');
    });
}
export { CliError };
