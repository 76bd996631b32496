import type { Command } from 'commander';
import { registerCaKey } from './ca-key.js';
import {
  type CertificateView,
  type OperatorBackend,
  openBackend,
  type RequestView,
  type TargetFlags,
  targetOptions,
} from './operator-backend.js';
import { CliError, printJson, printTable, safe } from './output.js';

async function withBackend<T>(flags: TargetFlags, fn: (backend: OperatorBackend) => Promise<T>): Promise<T> {
  const backend = await openBackend(flags);
  try {
    return await fn(backend);
  } finally {
    await backend.close();
  }
}

function requestRow(r: RequestView): string[] {
  return [
    r.id,
    r.state,
    safe(r.common_name),
    safe([...r.dns_names, ...r.ip_addresses].join(',')),
    r.key,
    r.created_at,
  ];
}

function certificateRow(c: CertificateView): string[] {
  const status = c.revoked_at ? `revoked (${c.revocation_reason ?? 'unspecified'})` : 'valid';
  return [
    c.serial,
    status,
    safe(c.common_name),
    safe([...c.dns_names, ...c.ip_addresses].join(',')),
    c.not_after,
    c.renewed_from ?? '',
  ];
}

interface ListFlags extends TargetFlags {
  pending?: boolean;
  signed?: boolean;
  revoked?: boolean;
  all?: boolean;
  limit?: number;
  json?: boolean;
}

/** Rows shown when neither --all nor --limit says otherwise. */
const DEFAULT_LIST_ROWS = 1000;

function positiveCount(text: string): number {
  const n = Number(text);
  if (!/^[0-9]{1,7}$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError(
      `--limit ${JSON.stringify(text.slice(0, 20))} is not a whole number from 1 to 9999999`,
    );
  }
  return n;
}

export function registerCa(program: Command): void {
  const ca = program
    .command('ca')
    .description(
      'operator commands: list, sign, reject, revoke and clean (local --data DIR or remote --server URL); encrypt-key and decrypt-key for the CA key at rest',
    )
    .addHelpText(
      'after',
      '\nA typical session:\n  certmaster ca list --data DIR              # what is waiting\n  certmaster ca sign web1.example.com --data DIR\n  certmaster ca revoke 5f3a... --reason keyCompromise --data DIR\n  certmaster ca clean web1.example.com --data DIR   # let the host enroll again\n\nRemotely, after `certmaster login --server URL`, replace --data DIR with --server URL.',
    );

  targetOptions(ca.command('list'))
    .description('list pending requests (default), signed or revoked certificates, or everything')
    .option('--pending', 'requests waiting for an operator (default)')
    .option('--signed', 'certificates that are valid (not revoked, not expired)')
    .option('--revoked', 'revoked certificates')
    .option('--all', 'every request and every certificate, following every page')
    .option(
      '--limit <n>',
      `at most N rows of each list (default ${DEFAULT_LIST_ROWS}; with --all: no limit)`,
      positiveCount,
    )
    .option('--json', 'machine-readable output')
    .addHelpText(
      'after',
      '\nLists are newest first. When a list holds more rows than shown, a line on stderr says so and how to see them (--all, or a larger --limit).',
    )
    .action(async (flags: ListFlags) =>
      withBackend(flags, async (backend) => {
        const showRequests = flags.all || flags.pending || (!flags.signed && !flags.revoked);
        const limit = flags.limit ?? (flags.all ? null : DEFAULT_LIST_ROWS);
        const requestListing = showRequests
          ? await backend.listRequests(flags.all ? undefined : 'pending', limit)
          : { items: [], more: false };
        const requests = requestListing.items;
        const status = flags.all ? 'all' : flags.signed ? 'valid' : flags.revoked ? 'revoked' : null;
        const certificateListing = status
          ? await backend.listCertificates(status, limit)
          : { items: [], more: false };
        const certificates = certificateListing.items;
        for (const [listing, what] of [
          [requestListing, 'requests'],
          [certificateListing, 'certificates'],
        ] as const) {
          if (listing.more) {
            process.stderr.write(
              `certmaster: showing the newest ${listing.items.length} ${what}; there are more: use --all, or a larger --limit\n`,
            );
          }
        }
        const both = flags.all || ((flags.signed || flags.revoked) && flags.pending);
        if (flags.json) {
          printJson(both ? { requests, certificates } : status ? certificates : requests);
          return;
        }
        if (showRequests) {
          if (requests.length === 0)
            process.stdout.write(flags.all ? 'No requests.\n' : 'No pending requests.\n');
          else printTable(requests.map(requestRow), ['ID', 'STATE', 'CN', 'NAMES', 'KEY', 'SUBMITTED']);
        }
        if (status) {
          if (showRequests) process.stdout.write('\n');
          if (certificates.length === 0) process.stdout.write('No certificates.\n');
          else
            printTable(certificates.map(certificateRow), [
              'SERIAL',
              'STATUS',
              'CN',
              'NAMES',
              'NOT AFTER',
              'RENEWED FROM',
            ]);
        }
      }),
    );

  targetOptions(ca.command('sign'))
    .description('sign a pending request, named by its id or its common name')
    .argument('<id-or-cn>')
    .option('--json', 'machine-readable output')
    .action(async (key: string, flags: TargetFlags & { json?: boolean }) =>
      withBackend(flags, async (backend) => {
        const view = await backend.approve(key);
        if (flags.json) printJson(view);
        else
          process.stdout.write(
            `Signed ${safe(view.request.common_name)}: serial ${view.certificate?.serial}, valid until ${view.certificate?.not_after}\n`,
          );
      }),
    );

  targetOptions(ca.command('reject'))
    .description('reject a pending request, named by its id or its common name')
    .argument('<id-or-cn>')
    .option('--reason <text>', 'why, shown to the host when it polls')
    .action(async (key: string, flags: TargetFlags & { reason?: string }) =>
      withBackend(flags, async (backend) => {
        if (flags.reason && flags.reason.length > 500)
          throw new CliError('--reason is limited to 500 characters');
        const request = await backend.reject(key, flags.reason ?? null);
        process.stdout.write(`Rejected request ${request.id} for ${safe(request.common_name)}\n`);
      }),
    );

  targetOptions(ca.command('revoke'))
    .description('revoke a certificate by its serial (hex, as `ca list --signed` shows it)')
    .argument('<serial>')
    .option(
      '--reason <reason>',
      'RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn, aACompromise',
      'unspecified',
    )
    .action(async (serial: string, flags: TargetFlags & { reason: string }) =>
      withBackend(flags, async (backend) => {
        const cert = await backend.revoke(serial, flags.reason);
        process.stdout.write(
          `Revoked ${cert.serial} (${safe(cert.common_name)}), reason ${cert.revocation_reason}, at ${cert.revoked_at}\n`,
        );
      }),
    );

  targetOptions(ca.command('clean'))
    .description("remove a host's requests and revoke its certificates so it can enroll again")
    .argument('<cn>')
    .action(async (cn: string, flags: TargetFlags) =>
      withBackend(flags, async (backend) => {
        const result = await backend.clean(cn);
        const revoked = result.certificatesRevoked.length;
        process.stdout.write(
          `Cleaned ${safe(cn)}: removed ${result.requestsRemoved} request(s), revoked ${revoked} certificate(s)${revoked ? ` (${result.certificatesRevoked.join(', ')})` : ''}\n`,
        );
      }),
    );
  registerCaKey(ca);
}
