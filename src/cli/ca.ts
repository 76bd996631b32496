import type { Command } from 'commander';
import { type Instance, openInstance } from '../instance/open.js';
import type { CertificateRequest, IssuedCertificate } from '../types.js';
import { CliError, printJson, printTable, safe } from './output.js';

const OPERATOR = 'local operator';

async function withInstance<T>(data: string, fn: (instance: Instance) => Promise<T>): Promise<T> {
  const instance = await openInstance(data);
  try {
    return await fn(instance);
  } finally {
    await instance.close();
  }
}

function requestRow(r: CertificateRequest): string[] {
  return [
    r.id,
    r.state,
    safe(r.commonName),
    safe([...r.dnsNames, ...r.ipAddresses].join(',')),
    r.keyDescription,
    r.createdAt.toISOString(),
  ];
}

function certificateRow(c: IssuedCertificate): string[] {
  const status = c.revokedAt ? `revoked (${c.revocationReason ?? 'unspecified'})` : 'valid';
  return [
    c.serial,
    status,
    safe(c.commonName),
    safe([...c.dnsNames, ...c.ipAddresses].join(',')),
    c.notAfter.toISOString(),
  ];
}

function requestJson(r: CertificateRequest) {
  return {
    id: r.id,
    state: r.state,
    common_name: r.commonName,
    dns_names: r.dnsNames,
    ip_addresses: r.ipAddresses,
    key: r.keyDescription,
    requester: r.requester,
    client_address: r.clientAddress,
    created_at: r.createdAt.toISOString(),
    decided_by: r.decidedBy,
    rejection_reason: r.rejectionReason,
    serial: r.serial,
  };
}

function certificateJson(c: IssuedCertificate) {
  return {
    serial: c.serial,
    common_name: c.commonName,
    dns_names: c.dnsNames,
    ip_addresses: c.ipAddresses,
    not_before: c.notBefore.toISOString(),
    not_after: c.notAfter.toISOString(),
    revoked_at: c.revokedAt?.toISOString() ?? null,
    revocation_reason: c.revocationReason,
    request_id: c.requestId,
  };
}

interface ListFlags {
  data: string;
  pending?: boolean;
  signed?: boolean;
  revoked?: boolean;
  all?: boolean;
  json?: boolean;
}

export function registerCa(program: Command): void {
  const ca = program
    .command('ca')
    .description('operator commands: list, sign, reject, revoke and clean (on a local --data DIR)')
    .addHelpText(
      'after',
      '\nA typical session:\n  certmaster ca list --data DIR              # what is waiting\n  certmaster ca sign web1.example.com --data DIR\n  certmaster ca revoke 5f3a... --reason keyCompromise --data DIR\n  certmaster ca clean web1.example.com --data DIR   # let the host enroll again',
    );

  ca.command('list')
    .description('list pending requests (default), signed or revoked certificates, or everything')
    .requiredOption('--data <dir>', 'data directory')
    .option('--pending', 'requests waiting for an operator (default)')
    .option('--signed', 'certificates that are valid (not revoked)')
    .option('--revoked', 'revoked certificates')
    .option('--all', 'every request and every certificate')
    .option('--json', 'machine-readable output')
    .action(async (flags: ListFlags) =>
      withInstance(flags.data, async ({ ra, store }) => {
        const showRequests = flags.all || flags.pending || (!flags.signed && !flags.revoked);
        const requests = showRequests ? await ra.listRequests(flags.all ? undefined : 'pending') : [];
        const status = flags.all ? 'all' : flags.signed ? 'valid' : flags.revoked ? 'revoked' : null;
        const certificates = status ? await store.listCertificates({ status }) : [];
        const both = flags.all || ((flags.signed || flags.revoked) && flags.pending);
        if (flags.json) {
          printJson(
            both
              ? { requests: requests.map(requestJson), certificates: certificates.map(certificateJson) }
              : status
                ? certificates.map(certificateJson)
                : requests.map(requestJson),
          );
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
          else printTable(certificates.map(certificateRow), ['SERIAL', 'STATUS', 'CN', 'NAMES', 'NOT AFTER']);
        }
      }),
    );

  ca.command('sign')
    .description('sign a pending request, named by its id or its common name')
    .argument('<id-or-cn>')
    .requiredOption('--data <dir>', 'data directory')
    .option('--json', 'machine-readable output')
    .action(async (key: string, flags: { data: string; json?: boolean }) =>
      withInstance(flags.data, async ({ ra }) => {
        const view = await ra.approve(key, OPERATOR);
        if (flags.json)
          printJson({
            request: requestJson(view.request),
            certificate: view.certificate && certificateJson(view.certificate),
          });
        else
          process.stdout.write(
            `Signed ${safe(view.request.commonName)}: serial ${view.certificate?.serial}, valid until ${view.certificate?.notAfter.toISOString()}\n`,
          );
      }),
    );

  ca.command('reject')
    .description('reject a pending request, named by its id or its common name')
    .argument('<id-or-cn>')
    .requiredOption('--data <dir>', 'data directory')
    .option('--reason <text>', 'why, shown to the host when it polls')
    .action(async (key: string, flags: { data: string; reason?: string }) =>
      withInstance(flags.data, async ({ ra }) => {
        if (flags.reason && flags.reason.length > 500)
          throw new CliError('--reason is limited to 500 characters');
        const request = await ra.reject(key, OPERATOR, flags.reason ?? null);
        process.stdout.write(`Rejected request ${request.id} for ${safe(request.commonName)}\n`);
      }),
    );

  ca.command('revoke')
    .description('revoke a certificate by its serial (hex, as `ca list --signed` shows it)')
    .argument('<serial>')
    .requiredOption('--data <dir>', 'data directory')
    .option(
      '--reason <reason>',
      'RFC 5280 reason: unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, privilegeWithdrawn, aACompromise',
      'unspecified',
    )
    .action(async (serial: string, flags: { data: string; reason: string }) =>
      withInstance(flags.data, async ({ ra }) => {
        const cert = await ra.revoke(serial, flags.reason, OPERATOR);
        process.stdout.write(
          `Revoked ${cert.serial} (${safe(cert.commonName)}), reason ${cert.revocationReason}, at ${cert.revokedAt?.toISOString()}\n`,
        );
      }),
    );

  ca.command('clean')
    .description("remove a host's requests and revoke its certificates so it can enroll again")
    .argument('<cn>')
    .requiredOption('--data <dir>', 'data directory')
    .action(async (cn: string, flags: { data: string }) =>
      withInstance(flags.data, async ({ ra }) => {
        const result = await ra.clean(cn, OPERATOR);
        const revoked = result.certificatesRevoked.length;
        process.stdout.write(
          `Cleaned ${safe(cn)}: removed ${result.requestsRemoved} request(s), revoked ${revoked} certificate(s)${revoked ? ` (${result.certificatesRevoked.join(', ')})` : ''}\n`,
        );
      }),
    );
}
