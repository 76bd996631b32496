/**
 * `certmaster agent`: keeps one certificate fresh unattended. It re-reads the files before every
 * attempt (another tool may have replaced them), renews at the window plus a random jitter, retries
 * with capped exponential backoff, runs --exec after each renewal, warns loudly as expiry nears, and
 * keeps trying after expiry in case the server allows renewal after expiry.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { backoffMs, maxJitterMs, opensAtFromDetail } from '../client/agent-schedule.js';
import { type HeldCertificate, opensAt, RenewalError, readHeld, renewOnce } from '../client/renewal.js';
import { ServerRefusal } from '../client/transport.js';
import { expiryWarning } from '../ops/expiry.js';
import { ensurePrivateDir } from '../util/durable-files.js';
import { CliError } from './output.js';
import {
  addRenewalOptions,
  describeRefusal,
  EXIT,
  EXIT_CODES_HELP,
  exitCodeOf,
  parseWindow,
  type RenewalFlags,
  trustedCa,
} from './renew.js';

interface AgentFlags extends RenewalFlags {
  exec?: string;
  once?: boolean;
  attempts: string;
  backoffStart: string;
  backoffMax: string;
  checkEvery: string;
  jitter?: string;
}

/** An --exec command that runs longer is killed: a reload must not hold the agent forever. */
const EXEC_TIMEOUT_MS = 300_000;

function log(line: string): void {
  process.stderr.write(`${new Date().toISOString()} certmaster agent: ${line}\n`);
}

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!/^[0-9.]+$/.test(text) || !Number.isFinite(n) || n <= 0) {
    throw new CliError(`${name} must be a positive number, not "${text}"`, 2);
  }
  return n;
}

export function registerAgent(program: Command): void {
  addRenewalOptions(
    program
      .command('agent')
      .description(
        'keep this host certificate fresh: renew over mutual TLS at the renewal window, retry, run a reload command',
      ),
  )
    .option('--exec <command>', 'shell command run after each renewal (e.g. "systemctl reload nginx")')
    .option('--once', 'check once, renew if due, and exit (for cron or a systemd timer)')
    .option('--attempts <n>', 'with --once: attempts before giving up on an unreachable server', '3')
    .option('--backoff-start <seconds>', 'first retry delay after a failure; doubles each time', '10')
    .option('--backoff-max <seconds>', 'longest retry delay', '3600')
    .option('--check-every <seconds>', 'longest sleep between looks at the files', '3600')
    .option(
      '--jitter <seconds>',
      'most random delay added to the due time (default: 5% of the lifetime, at most 3600; 0: none)',
    )
    .addHelpText(
      'after',
      `
What it does, each round: re-read --cert and --key from disk (another tool may have replaced them);
if the certificate is past --window of its lifetime plus a random jitter (--jitter; by default at
most 5% of the lifetime and at most an hour, so a fleet does not renew all at once), renew it exactly as
\`certmaster renew\` does, then run --exec with CERTMASTER_CERT, CERTMASTER_KEY and
CERTMASTER_SERIAL in its environment. A failure is retried after --backoff-start seconds, doubling
up to --backoff-max (each delay randomised between 50% and 100%). A refusal renewal_not_yet_open
waits for the time the server names. As expiry nears every round logs a WARNING line; after expiry
the agent keeps trying, since the server may allow renewal after expiry (ra.renew_after_expiry);
if it does not, the host must enroll again. Log lines go to stderr, one per event, with a timestamp.
The agent exits on SIGTERM or SIGINT.

${EXIT_CODES_HELP}
Without --once the agent runs until stopped (exit 0 on SIGTERM/SIGINT), and renews at most once per
--check-every.

Examples:
  certmaster agent --cert /etc/certmaster/cert.pem --key /etc/certmaster/key.pem \\
    --server https://ca.example.com:8443 --exec 'systemctl reload nginx'
  certmaster agent --once ...   # from a systemd timer: see docs/agent.md`,
    )
    .action(async (flags: AgentFlags) => {
      process.exitCode = await runAgent(flags);
    });
}

async function runAgent(flags: AgentFlags): Promise<number> {
  const window = parseWindow(flags.window);
  const attempts = Math.floor(positive('--attempts', flags.attempts));
  const startMs = positive('--backoff-start', flags.backoffStart) * 1000;
  const capMs = positive('--backoff-max', flags.backoffMax) * 1000;
  const checkMs = positive('--check-every', flags.checkEvery) * 1000;
  const jitterCapMs =
    flags.jitter === undefined || flags.jitter === '0' ? null : positive('--jitter', flags.jitter) * 1000;
  const caPem = await trustedCa(flags);
  if (flags.out) ensurePrivateDir(resolve(flags.out));
  const files = {
    certFile: flags.cert,
    keyFile: flags.key,
    ...(flags.out ? { outDir: resolve(flags.out) } : {}),
  };

  let stopped = false;
  let wake: (() => void) | null = null;
  const stop = () => {
    stopped = true;
    wake?.();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const sleep = (ms: number) =>
    new Promise<void>((done) => {
      const timer = setTimeout(done, Math.max(0, ms));
      wake = () => {
        clearTimeout(timer);
        done();
      };
    });

  // One jitter per certificate, drawn when it is first seen, so the due time does not move each round.
  const jitter = new Map<string, number>();
  let failures = 0;
  const retryOrGiveUp = async (code: number): Promise<number | null> => {
    failures++;
    if (flags.once && (code !== EXIT.unreachable || failures >= attempts)) return code;
    const delay = backoffMs(failures, startMs, capMs);
    log(
      `retrying in ${Math.round(delay / 1000)} s (failure ${failures}${flags.once ? ` of ${attempts}` : ''})`,
    );
    await sleep(delay);
    return null;
  };

  log(
    `watching ${resolve(flags.cert)} (renewal due after ${window} of its lifetime) against ${flags.server}`,
  );
  while (!stopped) {
    let held: HeldCertificate;
    try {
      held = readHeld(flags.cert, flags.key);
    } catch (e) {
      if (!(e instanceof RenewalError)) throw e;
      log(`ERROR: ${e.message}`);
      const code = await retryOrGiveUp(EXIT.local);
      if (code !== null) return code;
      continue;
    }
    warnAsExpiryNears(held);
    if (!jitter.has(held.serial)) {
      const lifetime = held.notAfter.getTime() - held.notBefore.getTime();
      const cap = flags.jitter === '0' ? 0 : (jitterCapMs ?? maxJitterMs(lifetime));
      jitter.set(held.serial, Math.random() * cap);
    }
    const due = new Date(opensAt(held, window).getTime() + (jitter.get(held.serial) ?? 0));
    const now = Date.now();
    if (now < due.getTime()) {
      if (flags.once) {
        log(
          `${held.commonName} (serial ${held.serial}) is not due until ${due.toISOString()}; nothing to do`,
        );
        return EXIT.ok;
      }
      log(`${held.commonName} (serial ${held.serial}) is due at ${due.toISOString()}`);
      await sleep(Math.min(due.getTime() - now, checkMs));
      continue;
    }
    log(`renewing ${held.commonName} (serial ${held.serial}, valid until ${held.notAfter.toISOString()})`);
    try {
      const renewed = await renewOnce(held, files, flags.server, caPem);
      failures = 0;
      log(
        `renewed ${held.commonName}: serial ${renewed.serial}, valid until ${renewed.notAfter.toISOString()}, written to ${renewed.certFile} and ${renewed.keyFile}`,
      );
      const execOk = flags.exec
        ? await runExec(flags.exec, renewed.certFile, renewed.keyFile, renewed.serial)
        : true;
      if (flags.once) return execOk ? EXIT.ok : EXIT.execFailed;
      if (flags.out) {
        // The renewed files live elsewhere: the agent keeps watching those from now on.
        files.certFile = renewed.certFile;
        files.keyFile = renewed.keyFile;
        flags.cert = renewed.certFile;
        flags.key = renewed.keyFile;
      }
      // At most one renewal per --check-every: with --window 0 a fresh certificate is due at once,
      // and the agent must not renew in a tight loop.
      await sleep(checkMs);
    } catch (e) {
      if (e instanceof ServerRefusal && e.reason === 'renewal_not_yet_open') {
        const opens = opensAtFromDetail(e.problem.detail);
        log(
          `the server says renewal opens at ${opens?.toISOString() ?? 'a later time'} (its ra.renew_window is later than --window ${window})`,
        );
        if (flags.once) return EXIT.ok;
        await sleep(Math.min((opens?.getTime() ?? Date.now() + checkMs) - Date.now() + 1000, checkMs));
        continue;
      }
      log(`ERROR: ${e instanceof ServerRefusal ? describeRefusal(e) : (e as Error).message}`);
      const code = await retryOrGiveUp(exitCodeOf(e));
      if (code !== null) return code;
    }
  }
  log('stopped');
  return EXIT.ok;
}

/** Loud, every round, from a fifth of the lifetime left (or a week) until after expiry. */
function warnAsExpiryNears(held: HeldCertificate): void {
  const warning = expiryWarning('certificate', held.commonName, held.notAfter, new Date(), held.notBefore);
  if (!warning) return;
  const expired = held.notAfter.getTime() <= Date.now();
  log(
    `WARNING: ${warning.replace(/^warning: /, '').replace(/; request a new certificate.*$/, '')}${expired ? '; still trying, in case the server allows renewal after expiry (ra.renew_after_expiry)' : '; renewal has not succeeded yet'}`,
  );
}

function runExec(command: string, certFile: string, keyFile: string, serial: string): Promise<boolean> {
  log(`running --exec: ${command}`);
  return new Promise((done) => {
    const child = spawn('/bin/sh', ['-c', command], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, CERTMASTER_CERT: certFile, CERTMASTER_KEY: keyFile, CERTMASTER_SERIAL: serial },
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), EXEC_TIMEOUT_MS);
    child.on('error', (e) => {
      clearTimeout(timer);
      log(`ERROR: --exec could not start: ${e.message}`);
      done(false);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) {
        log('--exec finished');
        done(true);
      } else {
        log(`ERROR: --exec failed (${signal ? `killed by ${signal}` : `exit ${code}`})`);
        done(false);
      }
    });
  });
}
