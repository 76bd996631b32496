/**
 * `certmaster ca encrypt-key` and `ca decrypt-key`: the CA key at rest under a passphrase, or back to
 * plain PKCS#8 (mode 0600, the zero-setup default). The file is replaced atomically (written beside it,
 * fsynced, renamed), and the new file is opened again before the command reports success.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  checkNewPassphrase,
  encryptPrivateKeyPem,
  isEncryptedKeyPem,
  KeyPassphraseError,
  MIN_PASSPHRASE_LENGTH,
  openPrivateKeyPem,
} from '../ca/key-encryption.js';
import {
  CA_PASSPHRASE_WAYS,
  caPassphraseFromEnvironment,
  readPassphraseFile,
} from '../instance/ca-passphrase.js';
import { openDataDir } from '../instance/data-dir.js';
import { writeFileDurable } from '../util/durable-files.js';
import { privateKeyToPem } from '../util/keys.js';
import { CliError } from './output.js';
import { promptSecret } from './secret-input.js';

async function currentPassphrase(keyPath: string): Promise<string> {
  const fromEnvironment = caPassphraseFromEnvironment();
  if (fromEnvironment !== undefined) return fromEnvironment;
  if (!process.stdin.isTTY) throw new CliError(`the CA key ${keyPath} is encrypted; ${CA_PASSPHRASE_WAYS}`);
  return promptSecret('Current CA key passphrase: ');
}

async function newPassphrase(file: string | undefined): Promise<string> {
  if (file !== undefined) return readPassphraseFile(file);
  if (!process.stdin.isTTY) {
    throw new CliError('no terminal to prompt for the new passphrase on; pass --passphrase-file FILE');
  }
  const first = await promptSecret('New CA key passphrase: ');
  const again = await promptSecret('Again: ');
  if (first !== again) throw new CliError('the two passphrases differ; nothing was changed');
  return first;
}

function openKey(pem: string, passphrase: string | undefined, keyPath: string) {
  try {
    return openPrivateKeyPem(pem, passphrase);
  } catch (e) {
    if (e instanceof KeyPassphraseError) {
      throw new CliError(`the passphrase given does not open the CA key ${keyPath}; nothing was changed`);
    }
    throw new CliError(`${keyPath} is not a readable private key`);
  }
}

export function registerCaKey(ca: Command): void {
  ca.command('encrypt-key')
    .description(
      'encrypt the CA private key with a passphrase (or change the passphrase of an encrypted one)',
    )
    .requiredOption('--data <dir>', 'data directory')
    .option(
      '--passphrase-file <file>',
      'read the new passphrase from the first line of FILE (else: prompt twice)',
    )
    .addHelpText(
      'after',
      `\nThe key becomes PKCS#8 encrypted with PBES2 (PBKDF2-HMAC-SHA256, 600,000 iterations, AES-256-CBC), which openssl reads too. The passphrase must be at least ${MIN_PASSPHRASE_LENGTH} characters.\nFrom then on, \`serve\` and the local commands that open the CA need it: ${CA_PASSPHRASE_WAYS}.\nA key already encrypted is opened with the current passphrase (${'CERTMASTER_CA_PASSPHRASE[_FILE]'} or a prompt) and re-encrypted.\n\nExample:\n  certmaster ca encrypt-key --data /var/lib/certmaster --passphrase-file /run/credentials/certmaster/ca-passphrase\n  systemctl restart certmaster`,
    )
    .action(async (flags: { data: string; passphraseFile?: string }) => {
      const { layout } = openDataDir(flags.data);
      const pem = readFileSync(layout.caKey, 'utf8');
      const current = isEncryptedKeyPem(pem) ? await currentPassphrase(layout.caKey) : undefined;
      const key = openKey(pem, current, layout.caKey);
      const passphrase = await newPassphrase(flags.passphraseFile);
      try {
        checkNewPassphrase(passphrase);
      } catch (e) {
        throw new CliError(`${(e as Error).message}; nothing was changed`);
      }
      const encrypted = encryptPrivateKeyPem(key, passphrase);
      // Opened again before it replaces the old file: a key that cannot be opened is never written.
      openKey(encrypted, passphrase, layout.caKey);
      writeFileDurable(layout.caKey, encrypted, 0o600);
      process.stdout.write(
        `Encrypted the CA key ${layout.caKey}. Restart the server with its passphrase: ${CA_PASSPHRASE_WAYS}.\n`,
      );
    });

  ca.command('decrypt-key')
    .description('store the CA private key unencrypted again (PKCS#8, mode 0600)')
    .requiredOption('--data <dir>', 'data directory')
    .addHelpText(
      'after',
      '\nThe current passphrase comes from CERTMASTER_CA_PASSPHRASE_FILE, CERTMASTER_CA_PASSPHRASE or a prompt.\n\nExample:\n  certmaster ca decrypt-key --data /var/lib/certmaster',
    )
    .action(async (flags: { data: string }) => {
      const { layout } = openDataDir(flags.data);
      const pem = readFileSync(layout.caKey, 'utf8');
      if (!isEncryptedKeyPem(pem)) {
        process.stdout.write(`The CA key ${layout.caKey} is not encrypted; nothing to do.\n`);
        return;
      }
      const key = openKey(pem, await currentPassphrase(layout.caKey), layout.caKey);
      writeFileDurable(layout.caKey, privateKeyToPem(key), 0o600);
      process.stdout.write(`The CA key ${layout.caKey} is stored unencrypted (mode 0600).\n`);
    });
}
