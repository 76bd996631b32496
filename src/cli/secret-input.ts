/** Reading a password: from a file, or typed at a prompt that does not echo. */
import { readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { CliError } from './output.js';

export function readSecretFile(path: string, what: string): string {
  let text: string;
  try {
    if (statSync(path).size > 8192) throw new CliError(`${path} is too large to hold a ${what}`);
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError(
      `cannot read the ${what} file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  // Only the line ending is dropped: spaces may be part of a passphrase.
  const value = text.replace(/\r?\n$/, '');
  if (value === '') throw new CliError(`${path} is empty`);
  return value;
}

/** Prompts on the terminal without echoing; refuses when there is no terminal to prompt on. */
export async function promptSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    throw new CliError('no terminal to prompt for the password on; pass --password-file FILE');
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  const output = rl as unknown as { _writeToOutput: (s: string) => void };
  let muted = false;
  output._writeToOutput = (s: string) => {
    if (!muted || s.includes('\n')) process.stderr.write(muted ? '\n' : s);
  };
  return new Promise((resolve) => {
    rl.question(prompt, (answer) => {
      rl.close();
      resolve(answer);
    });
    muted = true;
  });
}
