import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import pino from 'pino';
import { auditEvent } from '../audit/event.js';
import { isEncryptedKeyPem } from '../ca/key-encryption.js';
import { type ListenAddress, parseListenAddress } from '../domain/listen-address.js';
import { caPassphraseFromEnvironment, readPassphraseFile } from '../instance/ca-passphrase.js';
import { isEmptyDir } from '../instance/init.js';
import { dataLayout } from '../instance/layout.js';
import { openInstance } from '../instance/open.js';
import { startCertmasterServer } from '../instance/server.js';
import { quoted } from '../util/terminal-text.js';
import { addInitOptions, type InitFlags, runInit } from './init.js';
import { localActor } from './local-actor.js';
import { CliError } from './output.js';
import { promptSecret } from './secret-input.js';

interface ServeFlags extends InitFlags {
  listen?: string;
  insecureHttp?: boolean;
  logLevel: string;
  caPassphraseFile?: string;
}

/**
 * The CA key's passphrase when the key is encrypted: --ca-passphrase-file, then the environment, then
 * a prompt on a terminal. Undefined for an unencrypted key (or when nothing gives one: loading then
 * says which ways there are).
 */
async function servePassphrase(flags: ServeFlags): Promise<string | undefined> {
  if (flags.caPassphraseFile !== undefined) return readPassphraseFile(flags.caPassphraseFile);
  const fromEnvironment = caPassphraseFromEnvironment();
  if (fromEnvironment !== undefined) return fromEnvironment;
  const keyPath = dataLayout(flags.data).caKey;
  if (!existsSync(keyPath) || !isEncryptedKeyPem(readFileSync(keyPath, 'utf8'))) return undefined;
  if (!process.stdin.isTTY) return undefined;
  return promptSecret(`Passphrase of the CA key ${keyPath}: `);
}

/**
 * `--listen HOST:PORT`, read by the same rules as server.listen (src/domain/listen-address.ts), except
 * that port 0 asks the system for a free port.
 */
export function parseListen(text: string): ListenAddress {
  try {
    return parseListenAddress(text, { allowPortZero: true });
  } catch (e) {
    throw new CliError(
      `--listen ${quoted(text)} is not HOST:PORT (e.g. 127.0.0.1:8443 or [::1]:8443): ${(e as Error).message}`,
    );
  }
}

export function registerServe(program: Command): void {
  addInitOptions(
    program
      .command('serve')
      .description('serve the CA over HTTPS (initialising DIR first when it is empty)')
      .requiredOption('--data <dir>', 'data directory')
      .option('--listen <host:port>', 'address to listen on (default: server.listen, 127.0.0.1:8443)')
      .option('--insecure-http', 'serve plain HTTP instead of HTTPS (for a TLS-terminating proxy in front)')
      .option('--log-level <level>', 'fatal, error, warn, info, debug or trace', 'info')
      .option(
        '--ca-passphrase-file <file>',
        'the passphrase of an encrypted CA key (`ca encrypt-key`), from the first line of FILE; else CERTMASTER_CA_PASSPHRASE_FILE, CERTMASTER_CA_PASSPHRASE, or a prompt on a terminal',
      ),
  )
    .addHelpText(
      'after',
      '\nSignals: SIGTERM and SIGINT drain in-flight requests and exit; SIGHUP reloads certmaster.toml.\n\nExample:\n  certmaster serve --data /var/lib/certmaster --listen 0.0.0.0:8443',
    )
    .action(async (flags: ServeFlags) => {
      if (isEmptyDir(flags.data)) {
        const { fingerprint } = await runInit(flags);
        process.stderr.write(`Initialised ${flags.data} (CA SHA-256 fingerprint ${fingerprint})\n`);
      }
      const logger = pino({
        level: flags.logLevel,
        redact: ['req.headers.authorization', 'req.headers.cookie'],
      });
      const caPassphrase = await servePassphrase(flags);
      const instance = await openInstance(flags.data, {
        logger,
        writerThread: true,
        cryptoThreads: true,
        ...(caPassphrase !== undefined ? { caPassphrase } : {}),
      });
      const { host, port } = parseListen(flags.listen ?? instance.config().server.listen);
      const server = await startCertmasterServer(instance, {
        host,
        port,
        plainHttp: flags.insecureHttp === true || instance.config().server.plain_http,
        logger,
      });
      process.stdout.write(
        `certmaster serving ${server.url}\nCA SHA-256 fingerprint: ${instance.ca.fingerprintSha256}\n`,
      );

      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'draining in-flight requests');
        await server.close();
        await instance.close();
        logger.info('stopped');
        process.exit(0);
      };
      process.on('SIGTERM', () => void stop('SIGTERM'));
      process.on('SIGINT', () => void stop('SIGINT'));
      process.on('SIGHUP', () => {
        const actor = { ...localActor(), name: 'SIGHUP' };
        let outcome: 'success' | 'failure' = 'success';
        let cause: string | null = null;
        try {
          instance.reloadConfig();
          logger.info('configuration reloaded');
        } catch (e) {
          outcome = 'failure';
          cause = (e as Error).message;
          logger.error({ err: cause }, 'configuration not reloaded; the running one stays');
        }
        instance.auditSink
          .record(
            auditEvent(new Date(), actor, 'config.reload', 'decision', outcome, {
              target: 'certmaster.toml',
              cause,
            }),
          )
          .catch((e: unknown) => logger.error({ err: (e as Error).message }, 'config reload not audited'));
      });
    });
}
