/**
 * The `certmaster` command. Every command: --help, exit 0 on success, non-zero with one clear line
 * on stderr otherwise.
 */
import { Command, CommanderError } from 'commander';
import { ServerRefusal, TransportError } from '../client/transport.js';
import { ConfigError } from '../config/schema.js';
import { CaPassphraseError } from '../instance/ca-passphrase.js';
import { DataDirError } from '../instance/load.js';
import { PolicyFailure } from '../ra/failure.js';
import { registerAgent } from './agent.js';
import { registerAudit } from './audit.js';
import { registerCa } from './ca.js';
import { registerClient } from './client.js';
import { registerConfig } from './config.js';
import { registerDoctor } from './doctor.js';
import { registerExpiring } from './expiring.js';
import { registerExplain } from './explain.js';
import { registerInit } from './init.js';
import { CliError } from './output.js';
import { registerRenew } from './renew.js';
import { registerRequest } from './request.js';
import { registerServe } from './serve.js';
import { registerSession } from './session.js';
import { registerToken } from './token.js';
import { registerUser } from './user.js';

const program = new Command();
program
  .name('certmaster')
  .description(
    'A certificate master for fleets: hosts ask for X.509 certificates, operators (or autosign) sign them.',
  )
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .configureOutput({ outputError: (text, write) => write(text) })
  .exitOverride()
  .addHelpText(
    'after',
    `
Getting started:
  certmaster serve --data ./ca                    # creates the CA on first run, serves https://127.0.0.1:8443
  certmaster config set ra.autosign '*.example.com' --data ./ca
  certmaster request --server https://127.0.0.1:8443 --cn web1.example.com --out ./web1
  certmaster ca list --data ./ca                  # pending requests
  certmaster ca sign web1.example.com --data ./ca`,
  );

registerInit(program);
registerServe(program);
registerCa(program);
registerConfig(program);
registerRequest(program);
registerRenew(program);
registerAgent(program);
registerSession(program);
registerUser(program);
registerToken(program);
registerClient(program);
registerAudit(program);
registerExpiring(program);
registerExplain(program);
registerDoctor(program);

function fail(message: string, code = 1): never {
  process.stderr.write(`certmaster: ${message.replace(/\s*\n\s*/g, ' ')}\n`);
  process.exit(code);
}

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exit(e.exitCode === 0 ? 0 : 2);
  }
  if (e instanceof CliError) fail(e.message, e.exitCode);
  if (e instanceof ServerRefusal) fail(`the server refused: ${e.message}`);
  if (e instanceof PolicyFailure) fail(`${e.message}; ${e.hint}`);
  if (
    e instanceof ConfigError ||
    e instanceof DataDirError ||
    e instanceof CaPassphraseError ||
    e instanceof TransportError
  )
    fail(e.message);
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'EACCES' || err.code === 'ENOENT' || err.code === 'EEXIST') fail(err.message);
  fail(`unexpected error: ${err.message ?? String(e)}`);
}
