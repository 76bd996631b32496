/** `certmaster expiring`: what expires soon in a data directory, soonest first, expired things first of all. */
import type { Command } from 'commander';
import { openInstance } from '../instance/open.js';
import { type ExpiringItem, humanDuration, instanceExpirySources, listExpiring } from '../ops/expiry.js';
import { type Clock, systemClock } from '../types.js';
import { describeSeconds, parseDuration } from '../util/durations.js';
import { CliError, printJson, printTable, safe } from './output.js';

/** Further ahead than this is planning, not warning; it also keeps the arithmetic far from overflow. */
const MAX_WITHIN_SECONDS = 3650 * 86_400;

interface ExpiringFlags {
  data: string;
  within: string;
  json?: boolean;
}

const KIND_SHOWN: Record<ExpiringItem['kind'], string> = {
  ca: 'CA',
  server_certificate: 'server certificate',
  crl: 'CRL (not rebuilt)',
  certificate: 'certificate',
  api_token: 'API token',
  enrollment_token: 'enrollment token',
  refresh_family: 'login session',
};

export function expiringJson(item: ExpiringItem) {
  return {
    kind: item.kind,
    id: item.id,
    name: item.name,
    expires_at: item.expiresAt.toISOString(),
    seconds_left: item.secondsLeft,
    expired: item.secondsLeft <= 0,
  };
}

function leftText(item: ExpiringItem): string {
  return item.secondsLeft <= 0
    ? `expired ${humanDuration(item.secondsLeft)} ago`
    : `in ${humanDuration(item.secondsLeft)}`;
}

function printHuman(items: ExpiringItem[], withinText: string): void {
  if (items.length === 0) {
    process.stdout.write(`Nothing expires within ${withinText}.\n`);
    return;
  }
  const expired = items.filter((i) => i.secondsLeft <= 0);
  if (expired.length > 0) {
    const names = expired
      .slice(0, 5)
      .map((i) => `${KIND_SHOWN[i.kind]} ${safe(i.name)}`)
      .join(', ');
    const more = expired.length > 5 ? ` and ${expired.length - 5} more` : '';
    process.stdout.write(`ALREADY EXPIRED: ${expired.length} (${names}${more})\n`);
  }
  const upcoming = items.length - expired.length;
  process.stdout.write(`${upcoming} expire${upcoming === 1 ? 's' : ''} within ${withinText}.\n\n`);
  printTable(
    items.map((i) => [KIND_SHOWN[i.kind], safe(i.id), safe(i.name), i.expiresAt.toISOString(), leftText(i)]),
    ['KIND', 'ID', 'NAME', 'EXPIRES', 'WHEN'],
  );
}

/** `clock` is for tests; the command itself always uses the system clock. */
export function registerExpiring(program: Command, options: { clock?: Clock } = {}): void {
  program
    .command('expiring')
    .description(
      'list what expires soon: the CA, the server certificate, issued certificates, API and enrollment tokens',
    )
    .requiredOption('--data <dir>', 'data directory')
    .option('--within <duration>', 'how far ahead to look: 90s, 15m, 12h, 30d', '30d')
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      `
Things that already expired are listed first (certificates and tokens for 30 days after they
expire; the CA and server certificates always). For each host only its longest-lived certificate
counts: one that was renewed is not listed. Refresh-token families are not listed yet.

Example:
  certmaster expiring --data /var/lib/certmaster --within 14d`,
    )
    .action(async (flags: ExpiringFlags) => {
      const within = parseDuration(flags.within);
      if (within === null || within > MAX_WITHIN_SECONDS) {
        throw new CliError(`--within "${flags.within}" is not a duration from 1s to 3650d, such as 30d`);
      }
      const instance = await openInstance(flags.data);
      try {
        const items = await listExpiring(instanceExpirySources(instance), {
          now: (options.clock ?? systemClock).now(),
          withinSeconds: within,
        });
        if (flags.json) printJson(items.map(expiringJson));
        else printHuman(items, describeSeconds(within, { exact: true }));
      } finally {
        await instance.close();
      }
    });
}
