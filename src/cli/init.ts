import type { Command } from 'commander';
import { Option } from 'commander';
import { AccountError } from '../auth/accounts.js';
import { PasswordPolicyError } from '../auth/password-policy.js';
import { InitRefused, initDataDir } from '../instance/init.js';
import { KEY_TYPES, type KeyType, systemClock } from '../types.js';
import { CliError } from './output.js';
import { readSecretFile } from './secret-input.js';

export interface InitFlags {
  data: string;
  keyType: KeyType;
  caSubject: string;
  caValidityDays: string;
  serverValidityDays: string;
  san: string[];
  db?: string;
  adminUser: string;
  adminPasswordFile?: string;
  adminDigest?: boolean;
}

export function addInitOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--key-type <type>', 'CA key type').choices([...KEY_TYPES]).default('ec-p256'))
    .option('--ca-subject <dn>', 'subject of the root CA', 'CN=certmaster CA')
    .option('--ca-validity-days <days>', 'validity of the root CA in days', '3650')
    .option('--server-validity-days <days>', "validity of the service's own TLS certificate", '365')
    .option(
      '--san <name>',
      'extra DNS name or IP address for the server certificate (repeatable)',
      collect,
      [],
    )
    .option('--db <url>', 'store URL: a SQLite file (default DIR/certmaster.db) or postgres://user@host/db')
    .option('--admin-user <name>', 'name of the first administrator account', 'admin')
    .option(
      '--admin-password-file <file>',
      "the administrator's password (default: generated and printed once)",
    )
    .option('--admin-digest', 'also store digest secrets for the administrator (HTTP Digest)');
}

export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function days(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 36500)
    throw new CliError(`${flag} must be a whole number of days from 1 to 36500, not "${text}"`);
  return n;
}

export async function runInit(
  flags: InitFlags,
  listen?: string,
): Promise<{ fingerprint: string; root: string }> {
  try {
    const password = flags.adminPasswordFile ? readSecretFile(flags.adminPasswordFile, 'password') : null;
    const { layout, fingerprint, generatedAdminPassword } = await initDataDir({
      admin: { name: flags.adminUser, password, digest: flags.adminDigest === true },
      dataDir: flags.data,
      keyType: flags.keyType,
      caSubject: flags.caSubject,
      caValidityDays: days(flags.caValidityDays, '--ca-validity-days'),
      serverValidityDays: days(flags.serverValidityDays, '--server-validity-days'),
      serverNames: flags.san,
      ...(flags.db ? { storeUrl: flags.db } : {}),
      ...(listen ? { listen } : {}),
      clock: systemClock,
    });
    if (generatedAdminPassword) {
      process.stdout.write(
        `Administrator ${flags.adminUser}, password (shown once, store it now): ${generatedAdminPassword}\n`,
      );
    }
    return { fingerprint, root: layout.root };
  } catch (e) {
    if (e instanceof InitRefused || e instanceof AccountError || e instanceof PasswordPolicyError)
      throw new CliError(e.message);
    throw e;
  }
}

export function registerInit(program: Command): void {
  addInitOptions(
    program
      .command('init')
      .description('create a data directory: store, root CA, server certificate and configuration')
      .requiredOption('--data <dir>', 'data directory to create (must be empty or absent)'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  certmaster init --data /var/lib/certmaster\n  certmaster init --data ./ca --key-type rsa-4096 --ca-subject "CN=Example Fleet CA, O=Example"\n  certmaster init --data ./ca --san ca.example.com --db postgres://certmaster@db.example.com/certmaster',
    )
    .action(async (flags: InitFlags) => {
      const { fingerprint, root } = await runInit(flags);
      process.stdout.write(
        `Initialised ${root}\nCA SHA-256 fingerprint: ${fingerprint}\nStart it with: certmaster serve --data ${flags.data}\n`,
      );
    });
}
