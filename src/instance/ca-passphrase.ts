/**
 * Where the CA key's passphrase comes from, when the key is encrypted (`certmaster ca encrypt-key`):
 * a file (`serve --ca-passphrase-file`, or CERTMASTER_CA_PASSPHRASE_FILE, which suits systemd's
 * LoadCredential=), the environment variable CERTMASTER_CA_PASSPHRASE, or a prompt when `serve`
 * runs on a terminal. The passphrase is never logged, stored or sent anywhere.
 */
import { readFileSync, statSync } from 'node:fs';

export const CA_PASSPHRASE_ENV = 'CERTMASTER_CA_PASSPHRASE';
export const CA_PASSPHRASE_FILE_ENV = 'CERTMASTER_CA_PASSPHRASE_FILE';

/** The three ways, as every message that asks for the passphrase names them. */
export const CA_PASSPHRASE_WAYS = `give its passphrase with --ca-passphrase-file FILE (serve), ${CA_PASSPHRASE_FILE_ENV}=FILE or ${CA_PASSPHRASE_ENV}, or type it when \`certmaster serve\` asks on a terminal`;

export class CaPassphraseError extends Error {
  override name = 'CaPassphraseError';
}

/** The passphrase in `path`: its first line, without the line ending (spaces are kept). */
export function readPassphraseFile(path: string): string {
  let text: string;
  try {
    if (statSync(path).size > 4096) throw new CaPassphraseError(`${path} is too large to hold a passphrase`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof CaPassphraseError) throw e;
    throw new CaPassphraseError(
      `cannot read the CA passphrase file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  const passphrase = text.split(/\r?\n/, 1)[0] ?? '';
  if (passphrase === '') throw new CaPassphraseError(`the CA passphrase file ${path} is empty`);
  return passphrase;
}

/** The passphrase the environment gives, if any: the file variable first. */
export function caPassphraseFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = env[CA_PASSPHRASE_FILE_ENV];
  if (file !== undefined && file !== '') return readPassphraseFile(file);
  const value = env[CA_PASSPHRASE_ENV];
  return value === undefined || value === '' ? undefined : value;
}
