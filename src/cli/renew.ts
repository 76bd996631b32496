/**
 * `certmaster renew`: renew this host's certificate once over mutual TLS (POST /v1/renewals), with a
 * new key of the same type, replacing the files atomically. The options and exit codes are shared
 * with `certmaster agent`, which does the same unattended.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { fingerprintSha256, normalizeFingerprint } from '../ca/authority.js';
import { type HeldCertificate, opensAt, RenewalError, readHeld, renewOnce } from '../client/renewal.js';
import { ServerRefusal, TransportError } from '../client/transport.js';
import { fetchServedCa } from '../client/trust.js';
import { ensurePrivateDir } from '../util/durable-files.js';
import { pemBlocks } from '../util/pem.js';
import { CliError } from './output.js';

/** Exit codes of `renew` and `agent` (documented in both --help texts and docs/agent.md). */
export const EXIT = {
  ok: 0,
  /** A problem on this host: files, keys, trust, or a new certificate that failed its checks. */
  local: 1,
  /** `renew` without --force before the window opens: nothing was done. */
  notDue: 3,
  /** The server refused (reason, hint and request id are printed). */
  refused: 4,
  /** The server could not be reached, or answered garbage. */
  unreachable: 5,
  /** The renewal worked but the --exec command failed. */
  execFailed: 6,
} as const;

export interface RenewalFlags {
  cert: string;
  key: string;
  server: string;
  caFile?: string;
  caFingerprint?: string;
  out?: string;
  window: string;
}

export const EXIT_CODES_HELP = `Exit status: ${EXIT.ok} renewed (agent --once: renewed, or not due yet), ${EXIT.local} a problem on this host
(files, key, trust, a new certificate that does not verify), 2 bad usage, ${EXIT.notDue} not due yet (renew
without --force), ${EXIT.refused} the server refused (its reason, hint and request id are printed), ${EXIT.unreachable} the
server could not be reached, ${EXIT.execFailed} (agent) the --exec command failed after a renewal.`;

/** The options `renew` and `agent` share. */
export function addRenewalOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--cert <file>', 'the certificate to renew (PEM); replaced in place unless --out')
    .requiredOption('--key <file>', 'its private key (PEM); replaced by a new key, mode 0600')
    .requiredOption('--server <url>', 'certmaster server, e.g. https://ca.example.com:8443')
    .option('--ca-file <file>', 'PEM file of the CA certificate to trust (default: ca.pem beside --cert)')
    .option(
      '--ca-fingerprint <sha256>',
      "the CA certificate's SHA-256 fingerprint, as `certmaster serve` prints it",
    )
    .option('--out <dir>', 'write cert.pem, key.pem and chain.pem into DIR instead of replacing the files')
    .option(
      '--window <share>',
      "share of the lifetime after which renewal is due; keep it equal to the server's ra.renew_window",
      '0.66',
    );
}

export function parseWindow(text: string): number {
  const w = Number(text);
  if (!/^[0-9.]+$/.test(text) || !Number.isFinite(w) || w < 0 || w >= 1) {
    throw new CliError(`--window must be a number from 0 to 0.99 (such as 0.66), not "${text}"`, 2);
  }
  return w;
}

/** The CA to trust: --ca-file, else ca.pem beside the certificate; pinned by --ca-fingerprint when given. */
export async function trustedCa(flags: RenewalFlags): Promise<string> {
  const expected = flags.caFingerprint === undefined ? null : normalizeFingerprint(flags.caFingerprint);
  if (flags.caFingerprint !== undefined && !expected) {
    throw new CliError(
      `--ca-fingerprint "${flags.caFingerprint}" is not a SHA-256 fingerprint (64 hex digits, colons optional)`,
    );
  }
  const beside = join(dirname(resolve(flags.cert)), 'ca.pem');
  const file = flags.caFile ?? (existsSync(beside) ? beside : null);
  if (file) {
    const pem = readFileSync(file, 'utf8');
    const der = pemBlocks(pem, 'CERTIFICATE')[0];
    if (!der) throw new CliError(`${file} holds no PEM certificate`);
    if (expected && fingerprintSha256(der) !== expected) {
      throw new CliError(`the CA in ${file} has fingerprint ${fingerprintSha256(der)}, not ${expected}`);
    }
    return pem;
  }
  if (!expected) {
    throw new CliError(
      `no CA to trust: give --ca-file FILE or --ca-fingerprint SHA256 (there is no ${beside}, which \`certmaster request\` writes)`,
    );
  }
  const served = await fetchServedCa(flags.server);
  const fp = fingerprintSha256(served.der);
  if (fp !== expected) {
    throw new CliError(
      `CA FINGERPRINT MISMATCH: ${flags.server} presents a CA with fingerprint ${fp}, but --ca-fingerprint says ${expected}; nothing was sent`,
    );
  }
  return served.pem;
}

/** A refusal as the lines an operator needs: reason, detail, hint, request id. */
export function describeRefusal(e: ServerRefusal): string {
  const p = e.problem;
  return [
    `the server refused the renewal (HTTP ${e.status}, reason ${p.reason ?? 'unknown'}): ${p.detail ?? p.title ?? ''}`,
    ...(p.hint ? [`  hint: ${p.hint}`] : []),
    ...(p.request_id
      ? [
          `  request id: ${p.request_id} (an operator sees the whole story with \`certmaster explain ${p.request_id}\`)`,
        ]
      : []),
  ].join('\n');
}

/** Which exit code an error of a renewal attempt means. */
export function exitCodeOf(e: unknown): number {
  if (e instanceof ServerRefusal) return EXIT.refused;
  if (e instanceof TransportError) return EXIT.unreachable;
  const code = (e as NodeJS.ErrnoException).code ?? '';
  if (/^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|EPIPE)$/.test(code))
    return EXIT.unreachable;
  return EXIT.local;
}

export function registerRenew(program: Command): void {
  addRenewalOptions(
    program
      .command('renew')
      .description(
        'renew this host certificate once over mutual TLS, with a new key, replacing the files atomically',
      ),
  )
    .option(
      '--force',
      'renew even before --window says it is due; the server still decides (ra.renew_window) and may refuse renewal_not_yet_open',
    )
    .addHelpText(
      'after',
      `
The certificate itself is the credential: it is presented over mutual TLS, no token or password is
needed. A new key of the same type as the old one is generated here (it never leaves the host), and
a CSR for exactly the certificate's names is sent to POST /v1/renewals. The new certificate is
checked (signed by the trusted CA, for the new key, for the same name) before anything is written;
then the key (mode 0600) and the certificate replace the old files atomically (written to a
temporary file, fsynced, renamed, directory fsynced). Reload the services that use them afterwards,
or let \`certmaster agent --exec\` do it.

${EXIT_CODES_HELP}

Examples:
  certmaster renew --cert /etc/certmaster/cert.pem --key /etc/certmaster/key.pem \\
    --server https://ca.example.com:8443
  certmaster renew --cert cert.pem --key key.pem --server https://ca.example.com:8443 \\
    --ca-fingerprint 3A:1F:... --force`,
    )
    .action(async (flags: RenewalFlags & { force?: boolean }) => {
      process.exitCode = await runRenew(flags);
    });
}

async function runRenew(flags: RenewalFlags & { force?: boolean }): Promise<number> {
  const window = parseWindow(flags.window);
  let held: HeldCertificate;
  try {
    held = readHeld(flags.cert, flags.key);
  } catch (e) {
    if (e instanceof RenewalError) throw new CliError(e.message, EXIT.local);
    throw e;
  }
  const due = opensAt(held, window);
  if (!flags.force && Date.now() < due.getTime()) {
    process.stderr.write(
      `certmaster: ${held.commonName} (serial ${held.serial}) is not due for renewal until ${due.toISOString()} (--window ${window}); nothing was done. Use --force to ask the server anyway.\n`,
    );
    return EXIT.notDue;
  }
  if (flags.out) ensurePrivateDir(resolve(flags.out));
  try {
    const caPem = await trustedCa(flags);
    const renewed = await renewOnce(
      held,
      { certFile: flags.cert, keyFile: flags.key, ...(flags.out ? { outDir: resolve(flags.out) } : {}) },
      flags.server,
      caPem,
    );
    process.stdout.write(
      `Renewed ${held.commonName}: serial ${renewed.serial} (renewed from ${renewed.renewedFrom}), valid until ${renewed.notAfter.toISOString()}\n  ${renewed.keyFile}\n  ${renewed.certFile}\n${renewed.chainFile ? `  ${renewed.chainFile}\n` : ''}`,
    );
    return EXIT.ok;
  } catch (e) {
    if (e instanceof ServerRefusal) {
      process.stderr.write(`certmaster: ${describeRefusal(e)}\n`);
      return EXIT.refused;
    }
    if (e instanceof RenewalError) throw new CliError(e.message, EXIT.local);
    if (exitCodeOf(e) === EXIT.unreachable) throw new CliError((e as Error).message, EXIT.unreachable);
    throw e;
  }
}
