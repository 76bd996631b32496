/** `certmaster client ...`: service accounts for the OAuth client_credentials grant (RFC 6749 §4.4). */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { Option } from 'commander';
import { isScope, scopesOfRole } from '../auth/scopes.js';
import { ROLES, type Role } from '../types.js';
import { collect } from './init.js';
import { CliError, printJson, printTable, safe } from './output.js';
import { recordLocalChange, withAccounts } from './user.js';

const CLIENT_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/;

export function registerClient(program: Command): void {
  const client = program
    .command('client')
    .description(
      'service accounts for the client_credentials grant: add, list, remove (on a local --data DIR)',
    )
    .addHelpText(
      'after',
      `
A service gets an access token with its id and secret:
  curl -u ID:SECRET -d grant_type=client_credentials https://ca.example.com:8443/oauth/token

Example:
  certmaster client add deploy-bot --role operator --scope requests:read --data DIR`,
    );

  client
    .command('add')
    .description('create a service account; its secret is generated and printed once')
    .argument('<client-id>')
    .addOption(new Option('--role <role>', 'what it may do').choices([...ROLES]).makeOptionMandatory())
    .option(
      '--scope <scope>',
      'narrow it to these scopes of the role (repeatable; default all of them)',
      collect,
      [],
    )
    .requiredOption('--data <dir>', 'data directory')
    .option('--json', 'machine-readable output')
    .action(async (clientId: string, flags: { role: Role; scope: string[]; data: string; json?: boolean }) =>
      withAccounts(flags.data, async (deps, instance) => {
        if (!CLIENT_ID.test(clientId))
          throw new CliError(
            `"${clientId.slice(0, 80)}" is not a valid client id: 3 to 64 letters, digits, ".", "_" or "-"`,
          );
        if (clientId === 'certmaster-cli')
          throw new CliError('certmaster-cli is the name of the built-in public client');
        // Tokens name their subject by account or client id: the two must never be confused.
        if (await deps.store.getUser(clientId))
          throw new CliError(`an account is named "${clientId}"; choose another client id`);
        const roleScopes = scopesOfRole(flags.role);
        const scopes = flags.scope.length > 0 ? flags.scope : roleScopes;
        for (const s of scopes) {
          if (!isScope(s)) throw new CliError(`"${s}" is not a scope; scopes are ${roleScopes.join(', ')}`);
          if (!(roleScopes as string[]).includes(s))
            throw new CliError(`the ${flags.role} role does not have the scope ${s}`);
        }
        const secret = randomBytes(32).toString('base64url');
        await recordLocalChange(instance, 'user.change', 'client create', clientId, {
          role: flags.role,
          scopes,
        });
        await deps.store.createClient({
          clientId,
          secretHash: await deps.hasher.hash(secret),
          role: flags.role,
          scopes,
          owner: 'local operator',
          disabled: false,
          createdAt: deps.clock.now(),
        });
        if (flags.json) printJson({ client_id: clientId, client_secret: secret, role: flags.role, scopes });
        else
          process.stdout.write(
            `Created client ${clientId} (${flags.role}: ${scopes.join(' ')})\nClient secret (shown once, store it now): ${secret}\n`,
          );
      }),
    );

  client
    .command('list')
    .description('list service accounts (never their secrets)')
    .requiredOption('--data <dir>', 'data directory')
    .option('--json', 'machine-readable output')
    .action(async (flags: { data: string; json?: boolean }) =>
      withAccounts(flags.data, async (deps) => {
        const clients = (await deps.store.listClients()).map((c) => ({
          client_id: c.clientId,
          role: c.role,
          scopes: c.scopes,
          disabled: c.disabled,
          created_at: c.createdAt.toISOString(),
        }));
        if (flags.json) printJson(clients);
        else if (clients.length === 0) process.stdout.write('No clients.\n');
        else
          printTable(
            clients.map((c) => [
              safe(c.client_id),
              c.role,
              c.scopes.join(' '),
              c.disabled ? 'disabled' : 'active',
            ]),
            ['CLIENT ID', 'ROLE', 'SCOPES', 'STATE'],
          );
      }),
    );

  client
    .command('remove')
    .description('delete a service account')
    .argument('<client-id>')
    .requiredOption('--data <dir>', 'data directory')
    .action(async (clientId: string, flags: { data: string }) =>
      withAccounts(flags.data, async (deps, instance) => {
        await recordLocalChange(instance, 'user.change', 'client remove', clientId);
        if (!(await deps.store.removeClient(clientId)))
          throw new CliError(`there is no client "${clientId}"`);
        process.stdout.write(`Removed client ${clientId}\n`);
      }),
    );
}
