/**
 * `certmaster request`: make a key and CSR locally, submit, wait while pending, write the files.
 * Everything it needs to resume is kept in --out, so running it again continues where it stopped.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { fingerprintSha256, normalizeFingerprint } from '../ca/authority.js';
import { makeCsr, makeKeyAndCsr } from '../client/csr.js';
import { ServerRefusal, Transport } from '../client/transport.js';
import { fetchServedCa } from '../client/trust.js';
import { expiryWarning } from '../ops/expiry.js';
import { KEY_TYPES, type KeyType } from '../types.js';
import { ensurePrivateDir, writeFileDurable } from '../util/durable-files.js';
import { keyTypeOf } from '../util/keys.js';
import { pemBlocks } from '../util/pem.js';
import { collect } from './init.js';
import { CliError } from './output.js';

interface RequestFlags {
  server: string;
  cn: string;
  san: string[];
  out: string;
  caFingerprint?: string;
  caFile?: string;
  wait: string;
  keyType: KeyType;
  token?: string;
}

interface RequestAnswer {
  id: string;
  state: 'pending' | 'issued' | 'rejected';
  common_name: string;
  certificate?: string;
  chain?: string;
  rejection_reason?: string | null;
  decided_by?: string | null;
  retry_after?: number;
  not_after?: string;
}

/** Exit status when the wait ends while the request is still pending: run again to keep waiting. */
export const EXIT_STILL_PENDING = 3;

export function registerRequest(program: Command): void {
  program
    .command('request')
    .description(
      'get a certificate: make a key locally, submit a CSR, wait for signing, write key/cert/chain',
    )
    .requiredOption('--server <url>', 'certmaster server, e.g. https://ca.example.com:8443')
    .requiredOption('--cn <name>', 'common name of this host')
    .option('--san <name>', 'additional DNS name or IP address (repeatable)', collect, [])
    .requiredOption('--out <dir>', 'directory for key.pem (0600), cert.pem, chain.pem and ca.pem')
    .option(
      '--ca-fingerprint <sha256>',
      "the CA certificate's SHA-256 fingerprint, as `certmaster serve` prints it",
    )
    .option('--ca-file <file>', 'PEM file of the CA certificate to trust')
    .option(
      '--token <token>',
      'enrollment token (cmet_...) or API token; default CERTMASTER_TOKEN; without one the request is anonymous',
    )
    .option('--wait <seconds>', 'how long to wait while the request is pending (0: do not wait)', '600')
    .addOption(
      new Option('--key-type <type>', 'type of the key to generate')
        .choices([...KEY_TYPES])
        .default('ec-p256'),
    )
    .addHelpText(
      'after',
      `
Trust: the CA is pinned on first contact. With --ca-fingerprint or --ca-file nothing is taken on
faith; without them the fingerprint is printed so you can compare it with the operator's, and kept in
OUT/ca.pem: later runs refuse a server whose CA differs.

Exit status: 0 issued, 1 refused or rejected, ${EXIT_STILL_PENDING} still pending when --wait ran out (run the
same command again: it resumes with the same key and request).

Example:
  certmaster request --server https://ca.example.com:8443 --cn web1.example.com \\
    --san www.example.com --out /etc/certmaster --ca-fingerprint 3A:1F:...`,
    )
    .action(async (flags: RequestFlags) => {
      const code = await runRequest(flags);
      if (code !== 0) process.exitCode = code;
    });
}

async function runRequest(flags: RequestFlags): Promise<number> {
  const out = resolve(flags.out);
  const waitSeconds = Number(flags.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0)
    throw new CliError(`--wait must be a number of seconds, not "${flags.wait}"`);
  ensurePrivateDir(out);
  warnIfExpiring(join(out, 'cert.pem'));
  const caPem = await establishTrust(flags, out);
  const transport = new Transport(flags.server, { ca: caPem });
  try {
    const csrPem = await keyAndCsr(flags, out);
    if (flags.token === '') throw new CliError('--token is empty; leave it out for an anonymous request');
    const token = flags.token ?? process.env.CERTMASTER_TOKEN;
    const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    let answer = (await transport.json<RequestAnswer>('POST', '/v1/requests', { csr: csrPem }, auth)).data;
    const started = Date.now();
    while (answer.state === 'pending') {
      const elapsed = (Date.now() - started) / 1000;
      if (elapsed >= waitSeconds) {
        process.stderr.write(
          `\nRequest ${answer.id} for ${answer.common_name} is still waiting for an operator (\`certmaster ca sign ${answer.common_name}\`); run this command again to keep waiting.\n`,
        );
        return EXIT_STILL_PENDING;
      }
      const pause = Math.min(Math.max(answer.retry_after ?? 5, 1), 300, Math.max(waitSeconds - elapsed, 0.2));
      progress(
        `Waiting for an operator to sign ${answer.common_name} (request ${answer.id}): ${Math.round(elapsed)} s so far, next check in ${Math.round(pause)} s`,
      );
      await new Promise((r) => setTimeout(r, pause * 1000));
      answer = (await transport.json<RequestAnswer>('GET', `/v1/requests/${encodeURIComponent(answer.id)}`))
        .data;
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    if (answer.state === 'rejected') {
      process.stderr.write(
        `error: request ${answer.id} for ${answer.common_name} was rejected${answer.decided_by ? ` by ${answer.decided_by}` : ''}${answer.rejection_reason ? `: ${answer.rejection_reason}` : ''}. Ask the operator to run \`certmaster ca clean ${answer.common_name}\` before trying again.\n`,
      );
      return 1;
    }
    writeIssued(answer, out, caPem);
    process.stdout.write(
      `Issued ${answer.common_name}, valid until ${answer.not_after}\n  ${join(out, 'key.pem')}\n  ${join(out, 'cert.pem')}\n  ${join(out, 'chain.pem')}\n`,
    );
    return 0;
  } catch (e) {
    if (e instanceof ServerRefusal) throw new CliError(`the server refused: ${e.message}`);
    throw e;
  } finally {
    transport.close();
  }
}

function progress(line: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
  else process.stderr.write(`${line}\n`);
}

/** Returns the PEM of the CA to trust, pinning it in OUT/ca.pem on first contact. */
async function establishTrust(flags: RequestFlags, out: string): Promise<string> {
  const pinnedPath = join(out, 'ca.pem');
  const expected = flags.caFingerprint === undefined ? null : normalizeFingerprint(flags.caFingerprint);
  if (flags.caFingerprint !== undefined && !expected) {
    throw new CliError(
      `--ca-fingerprint "${flags.caFingerprint}" is not a SHA-256 fingerprint (64 hex digits, colons optional)`,
    );
  }
  let caPem: string | null = null;
  let source = '';
  if (flags.caFile) {
    caPem = readFileSync(flags.caFile, 'utf8');
    source = flags.caFile;
  } else if (existsSync(pinnedPath)) {
    caPem = readFileSync(pinnedPath, 'utf8');
    source = `${pinnedPath} (pinned on first contact)`;
  }
  if (caPem) {
    const der = pemBlocks(caPem, 'CERTIFICATE')[0];
    if (!der) throw new CliError(`${source} holds no PEM certificate`);
    const fp = fingerprintSha256(der);
    if (expected && fp !== expected) {
      throw new CliError(
        `the CA in ${source} has fingerprint ${fp}, not the ${expected} given with --ca-fingerprint`,
      );
    }
    const served = await fetchServedCa(flags.server);
    if (fingerprintSha256(served.der) !== fp) {
      throw new CliError(
        `CA MISMATCH: ${flags.server} now presents a CA with fingerprint ${fingerprintSha256(served.der)}, but ${source} pins ${fp}. Someone may be impersonating the server, or the CA was replaced. Refusing to continue; if the operator confirms the new CA, remove ${pinnedPath} and run again with --ca-fingerprint.`,
      );
    }
    if (!existsSync(pinnedPath)) writeFileDurable(pinnedPath, caPem, 0o644);
    return caPem;
  }
  const served = await fetchServedCa(flags.server);
  const fp = fingerprintSha256(served.der);
  if (expected && fp !== expected) {
    throw new CliError(
      `CA FINGERPRINT MISMATCH: ${flags.server} presents a CA with fingerprint ${fp}, but --ca-fingerprint says ${expected}. Someone may be intercepting the connection; nothing was sent.`,
    );
  }
  if (!expected) {
    process.stderr.write(
      `warning: trusting the CA on first use. Its SHA-256 fingerprint is\n  ${fp}\ncompare it with the one \`certmaster serve\` printed; it is now pinned in ${pinnedPath}.\n`,
    );
  }
  writeFileDurable(pinnedPath, served.pem, 0o644);
  return served.pem;
}

async function keyAndCsr(flags: RequestFlags, out: string): Promise<string> {
  const keyPath = join(out, 'key.pem');
  const csrPath = join(out, 'csr.pem');
  const names = [flags.cn, ...flags.san];
  if (existsSync(keyPath)) {
    const key = createPrivateKey(readFileSync(keyPath, 'utf8'));
    // Resuming with the same CSR makes the server return the same request (idempotent submit).
    if (existsSync(csrPath) && existsSync(join(out, 'csr.names'))) {
      if (readFileSync(join(out, 'csr.names'), 'utf8') === names.join('\n'))
        return readFileSync(csrPath, 'utf8');
    }
    const csrPem = await makeCsr(key, keyTypeOf(key), flags.cn, flags.san);
    writeFileDurable(csrPath, csrPem, 0o644);
    writeFileDurable(join(out, 'csr.names'), names.join('\n'), 0o644);
    return csrPem;
  }
  const { keyPem, csrPem } = await makeKeyAndCsr(flags.keyType, flags.cn, flags.san);
  writeFileDurable(keyPath, keyPem, 0o600);
  writeFileDurable(csrPath, csrPem, 0o644);
  writeFileDurable(join(out, 'csr.names'), names.join('\n'), 0o644);
  return csrPem;
}

function writeIssued(answer: RequestAnswer, out: string, caPem: string): void {
  if (!answer.certificate)
    throw new CliError('the server said the request was issued but sent no certificate');
  const cert = new X509Certificate(answer.certificate);
  const key = createPrivateKey(readFileSync(join(out, 'key.pem'), 'utf8'));
  if (!cert.checkPrivateKey(key))
    throw new CliError('the issued certificate is not for our key; refusing to write it');
  const ca = new X509Certificate(caPem);
  if (!cert.verify(ca.publicKey))
    throw new CliError('the issued certificate was not signed by the pinned CA; refusing to write it');
  writeFileDurable(join(out, 'cert.pem'), answer.certificate, 0o644);
  writeFileDurable(join(out, 'chain.pem'), answer.chain ?? answer.certificate + caPem, 0o644);
}

/** Says so when the certificate already in --out is close to expiry (or past it). */
function warnIfExpiring(path: string): void {
  if (!existsSync(path)) return;
  try {
    const cert = new X509Certificate(readFileSync(path));
    const name = /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? path;
    const warning = expiryWarning(
      'certificate',
      name,
      new Date(cert.validTo),
      new Date(),
      new Date(cert.validFrom),
    );
    if (warning) process.stderr.write(`certmaster: ${warning}\n`);
  } catch {
    // An unreadable old certificate is replaced by this run anyway.
  }
}
