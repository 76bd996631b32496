/** `certmaster user ...`: accounts on a local data directory. */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { Option } from 'commander';
import { auditEvent } from '../audit/event.js';
import { type AccountDeps, AccountError, createAccount, setPassword } from '../auth/accounts.js';
import { PasswordPolicyError } from '../auth/password-policy.js';
import { PasswordHasher } from '../auth/passwords.js';
import type { PageKey } from '../domain/page-key.js';
import { openSecretBox } from '../instance/front-door.js';
import { type Instance, openInstance } from '../instance/open.js';
import { DuplicateError, type UserRecord } from '../store/identities/auth-store.js';
import { ROLES, type Role, systemClock } from '../types.js';
import { localActor } from './local-actor.js';
import { gather, storePage } from './operator-backend.js';
import { CliError, printJson, printTable, safe } from './output.js';
import { readSecretFile } from './secret-input.js';

export function accountDeps(instance: Instance): AccountDeps {
  const auth = instance.config().auth;
  return {
    store: instance.store,
    hasher: new PasswordHasher({
      params: {
        memoryKiB: auth.argon2_memory_kib,
        iterations: auth.argon2_iterations,
        parallelism: auth.argon2_parallelism,
      },
    }),
    box: openSecretBox(instance.layout),
    clock: systemClock,
    realm: () => instance.config().auth.realm,
  };
}

/** A generated password: 20 random bytes as base64url, well past every length rule. */
export function generatePassword(): string {
  return randomBytes(20).toString('base64url');
}

/** Records a local account or token change in the audit log (before the command reports success). */
export async function recordLocalChange(
  instance: Instance,
  kind: 'user.change' | 'token.change',
  action: string,
  target: string,
  details: Record<string, unknown> = {},
): Promise<void> {
  await instance.auditSink.record(
    auditEvent(new Date(), localActor(), kind, 'decision', 'success', {
      target,
      details: { action, ...details },
    }),
  );
}

export async function withAccounts<T>(
  data: string,
  fn: (deps: AccountDeps, instance: Instance) => Promise<T>,
): Promise<T> {
  const instance = await openInstance(data);
  try {
    return await fn(accountDeps(instance), instance);
  } catch (e) {
    if (e instanceof AccountError || e instanceof PasswordPolicyError) throw new CliError(e.message);
    if (e instanceof DuplicateError) throw new CliError(`${e.what} already exists`);
    throw e;
  } finally {
    await instance.close();
  }
}

interface AddFlags {
  data: string;
  role: Role;
  passwordFile?: string;
  digest?: boolean;
  names?: string;
}

export function registerUser(program: Command): void {
  const user = program
    .command('user')
    .description('accounts: add, list, passwd, disable, enable, remove (on a local --data DIR)')
    .addHelpText(
      'after',
      `
Roles: admin (everything), operator (approve, reject, revoke, clean, list), auditor (read
certificates and the audit log), host (enroll only for the names it is given with --names).

Passwords: 12 to 256 characters, any Unicode, no composition rules (NIST SP 800-63B); common
passwords are refused. --digest also stores a digest (RFC 7616) password equivalent for the
account, sealed with the server's key: needed only for clients that use HTTP Digest.

Examples:
  certmaster user add alice --role operator --data DIR            # prints a generated password once
  certmaster user add web1.example.com --role host --names 'web1.example.com' --password-file pw --data DIR
  certmaster user passwd alice --password-file pw --data DIR`,
    );

  user
    .command('add')
    .description('create an account; without --password-file a password is generated and printed once')
    .argument('<name>')
    .addOption(
      new Option('--role <role>', 'what the account may do').choices([...ROLES]).makeOptionMandatory(),
    )
    .requiredOption('--data <dir>', 'data directory')
    .option('--password-file <file>', 'read the password from this file')
    .option('--digest', 'also store digest secrets so the account can use HTTP Digest')
    .option(
      '--names <patterns>',
      'host accounts: comma-separated names it may get certificates for (default: its own name)',
    )
    .action(async (name: string, flags: AddFlags) =>
      withAccounts(flags.data, async (deps, instance) => {
        const generated = flags.passwordFile ? null : generatePassword();
        const password = flags.passwordFile
          ? readSecretFile(flags.passwordFile, 'password')
          : (generated as string);
        const names = flags.names
          ?.split(',')
          .map((n) => n.trim().toLowerCase())
          .filter(Boolean);
        await recordLocalChange(instance, 'user.change', 'create', name, {
          role: flags.role,
          digest: flags.digest === true,
        });
        const created = await createAccount(deps, {
          name,
          role: flags.role,
          password,
          digest: flags.digest === true,
          ...(names ? { namePatterns: names } : {}),
        });
        process.stdout.write(
          `Created ${created.role} account ${created.name}${created.digestSecrets ? ' (digest enabled)' : ''}\n`,
        );
        if (generated) process.stdout.write(`Password (shown once, store it now): ${generated}\n`);
      }),
    );

  user
    .command('list')
    .description('list accounts')
    .requiredOption('--data <dir>', 'data directory')
    .option('--json', 'machine-readable output')
    .action(async (flags: { data: string; json?: boolean }) =>
      withAccounts(flags.data, async (deps) => {
        const { items: users } = await gather<UserRecord, PageKey>(null, (size, after) =>
          storePage(
            size,
            (n) => deps.store.listUsers({ limit: n, ...(after ? { after: after.key } : {}) }),
            (u) => ({ at: u.createdAt, key: u.name }),
          ),
        );
        const rows = users.map((u) => ({
          name: u.name,
          role: u.role,
          disabled: u.disabled,
          digest: u.digestSecrets !== null,
          names: u.namePatterns,
          created_at: u.createdAt.toISOString(),
          password_changed_at: u.passwordChangedAt.toISOString(),
        }));
        if (flags.json) printJson(rows);
        else if (rows.length === 0) process.stdout.write('No accounts.\n');
        else
          printTable(
            rows.map((r) => [
              safe(r.name),
              r.role,
              r.disabled ? 'disabled' : 'active',
              r.digest ? 'yes' : 'no',
              safe(r.names.join(',')),
            ]),
            ['NAME', 'ROLE', 'STATE', 'DIGEST', 'NAMES'],
          );
      }),
    );

  user
    .command('passwd')
    .description("set an account's password (generated and printed once without --password-file)")
    .argument('<name>')
    .requiredOption('--data <dir>', 'data directory')
    .option('--password-file <file>', 'read the new password from this file')
    .option('--digest', 'store digest secrets too (they are kept when the account had them)')
    .action(async (name: string, flags: { data: string; passwordFile?: string; digest?: boolean }) =>
      withAccounts(flags.data, async (deps, instance) => {
        const generated = flags.passwordFile ? null : generatePassword();
        const password = flags.passwordFile
          ? readSecretFile(flags.passwordFile, 'password')
          : (generated as string);
        await recordLocalChange(instance, 'user.change', 'passwd', name);
        await setPassword(deps, name, password, flags.digest ? { digest: true } : {});
        process.stdout.write(`Password of ${name} changed\n`);
        if (generated) process.stdout.write(`Password (shown once, store it now): ${generated}\n`);
      }),
    );

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    user
      .command(verb)
      .description(
        disabled
          ? 'refuse every sign-in of this account (its tokens stop working too)'
          : 'allow the account to sign in again',
      )
      .argument('<name>')
      .requiredOption('--data <dir>', 'data directory')
      .action(async (name: string, flags: { data: string }) =>
        withAccounts(flags.data, async (deps, instance) => {
          await recordLocalChange(instance, 'user.change', verb, name);
          const updated = await deps.store.updateUser(name, { disabled }, deps.clock.now());
          if (!updated) throw new CliError(`there is no account named "${name}"`);
          process.stdout.write(`${disabled ? 'Disabled' : 'Enabled'} ${name}\n`);
        }),
      );
  }

  user
    .command('remove')
    .description('delete an account; its API tokens and sign-ins are revoked')
    .argument('<name>')
    .requiredOption('--data <dir>', 'data directory')
    .action(async (name: string, flags: { data: string }) =>
      withAccounts(flags.data, async (deps, instance) => {
        await recordLocalChange(instance, 'user.change', 'remove', name);
        if (!(await deps.store.removeUser(name))) throw new CliError(`there is no account named "${name}"`);
        process.stdout.write(`Removed ${name}\n`);
      }),
    );
}
