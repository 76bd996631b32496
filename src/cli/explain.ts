/** `certmaster explain`: why a request was refused, or why a host has no certificate, and what to do. */
import type { Command } from 'commander';
import { AuditOutageLog } from '../audit/outage-log.js';
import { ApiClient } from '../client/api.js';
import { openDataDir, openDataStore } from '../instance/data-dir.js';
import { dataLayout } from '../instance/layout.js';
import {
  acmeOrderStoryJson,
  auditRecordsFromJson,
  type CommandContext,
  explainAcmeOrder,
  explainHost,
  explainRequest,
  floodStory,
  floodSummariesOf,
  hostDiagnosisJson,
  printable,
  type RequestStory,
  renderAcmeOrderStory,
  renderHostDiagnosis,
  renderRequestStory,
  requestStory,
  requestStoryJson,
} from '../ops/explain/index.js';
import type { CertmasterStore } from '../store/open.js';
import { systemClock } from '../types.js';
import { type TargetFlags, targetOptions } from './operator-backend.js';
import { CliError, printJson } from './output.js';

interface ExplainFlags extends TargetFlags {
  host?: string;
  acmeOrder?: string;
  json?: boolean;
}

/** Request ids are short printable tokens; anything else cannot be one. */
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/** The store of a local data directory, without loading the CA key: explaining needs no signing. */
async function openLocalStore(data: string): Promise<CertmasterStore> {
  return openDataStore(openDataDir(data));
}

async function remoteStory(
  flags: ExplainFlags,
  id: string,
  ctx: CommandContext,
): Promise<RequestStory | null> {
  const api = ApiClient.open(flags.server ?? '', {
    ...(flags.token ? { token: flags.token } : {}),
    ...(flags.caFile ? { caFile: flags.caFile } : {}),
  });
  try {
    const records = auditRecordsFromJson(
      await api.call<unknown>('GET', `/v1/audit?request_id=${encodeURIComponent(id)}`),
    );
    if (records.length > 0) return requestStory(id, records, ctx);
    // Folded into a flood summary: found by the time and source its id carries.
    const summaries = await floodSummariesOf(id, async (filter) => {
      const query = new URLSearchParams({ outcome: 'failure', limit: String(filter.limit ?? 1000) });
      if (filter.since) query.set('since', filter.since.toISOString());
      if (filter.until) query.set('until', filter.until.toISOString());
      if (filter.afterSeq !== undefined) query.set('after_seq', String(filter.afterSeq));
      return auditRecordsFromJson(await api.call<unknown>('GET', `/v1/audit?${query}`));
    });
    return floodStory(id, summaries, ctx);
  } catch (e) {
    if (e instanceof CliError) throw e;
    throw new CliError((e as Error).message);
  } finally {
    api.close();
  }
}

async function explainOne(id: string, flags: ExplainFlags, ctx: CommandContext): Promise<void> {
  if (!REQUEST_ID.test(id)) {
    throw new CliError(
      `"${printable(id, 60)}" is not a request id; copy it from the X-Request-Id header or the request_id of the refusal`,
    );
  }
  let story: RequestStory | null;
  if (flags.data) {
    const store = await openLocalStore(flags.data);
    try {
      story = await explainRequest(store, id, ctx, new AuditOutageLog(dataLayout(flags.data).auditOutage));
    } finally {
      await store.close();
    }
  } else {
    story = await remoteStory(flags, id, ctx);
  }
  if (story === null) {
    throw new CliError(
      `no audit record has request id ${id}, and no flood summary of its time and source holds it: check the id (from X-Request-Id or the problem's request_id) and that this is the server that answered; an id of an older release carries no time, and a refusal of a flood (more than 5 alike from one address in a minute, naming no account) is kept only as a count in a flood summary: certmaster audit list --outcome failure --since 1h`,
    );
  }
  if (flags.json) printJson(requestStoryJson(story));
  else process.stdout.write(renderRequestStory(story));
}

async function explainHostCommand(name: string, flags: ExplainFlags, ctx: CommandContext): Promise<void> {
  if (!flags.data) {
    throw new CliError('--host reads the data directory: give --data DIR (on the server, or a replica)');
  }
  if (name.length === 0 || name.length > 253) throw new CliError('--host takes a host name (a common name)');
  const store = await openLocalStore(flags.data);
  try {
    const diagnosis = await explainHost(store, name.toLowerCase(), ctx, systemClock);
    if (flags.json) printJson(hostDiagnosisJson(diagnosis));
    else process.stdout.write(renderHostDiagnosis(diagnosis));
  } finally {
    await store.close();
  }
}

async function explainAcmeOrderCommand(id: string, flags: ExplainFlags): Promise<void> {
  if (!flags.data) {
    throw new CliError(
      '--acme-order reads the data directory: give --data DIR (on the server, or a replica)',
    );
  }
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    throw new CliError('--acme-order takes the id at the end of the order URL (…/acme/order/ID)');
  }
  const store = await openLocalStore(flags.data);
  try {
    const story = await explainAcmeOrder(store.acme, id);
    if (!story)
      throw new CliError(`no ACME order has id ${id}: copy it from the order URL the client printed`);
    if (flags.json) printJson(acmeOrderStoryJson(story));
    else process.stdout.write(renderAcmeOrderStory(story));
  } finally {
    await store.close();
  }
}

export function registerExplain(program: Command): void {
  targetOptions(program.command('explain'))
    .description(
      'tell the whole story of a refused request (by its request id), or why a host has no certificate',
    )
    .argument('[request-id]', 'the X-Request-Id of the answer (also the request_id of a refusal)')
    .option('--host <name>', "why can't this host get or renew a certificate? (needs --data)")
    .option(
      '--acme-order <id>',
      'the story of an ACME order: account, authorizations, what the validator saw (needs --data)',
    )
    .option('--json', 'machine-readable output')
    // Request ids are base64url and may begin with "-" (`certmaster explain -AbC...`): commander
    // would take one for an option, so unknown options reach the action, which sorts them out.
    .allowUnknownOption()
    .addHelpText(
      'after',
      `
A caller is told only what it may know ("the user name or password is not right"); the audit log
keeps the precise cause. explain reads it and says who the caller claimed to be, which credential
it sent and from where, why it was refused, what it was told, and what to do about it.

Examples:
  certmaster explain 01J9Z3K4QW8V6 --data /var/lib/certmaster
  certmaster explain 01J9Z3K4QW8V6 --server https://ca.example.com:8443      # after certmaster login
  certmaster explain --host web1.example.com --data /var/lib/certmaster
  certmaster explain --acme-order 3q2-7wEcT0uN1eD1d8B0qg --data /var/lib/certmaster
  certmaster explain -q3xYb0Jz_T8aLm1K --data /var/lib/certmaster             # an id that begins with "-"

Exit status: 0 when the story was told, 1 when no record has that id.`,
    )
    .action(async (id: string | undefined, flags: ExplainFlags, command: Command) => {
      if (command.args.length > 1) {
        throw new CliError(
          `unexpected ${command.args
            .slice(1)
            .map((a) => `"${printable(a, 40)}"`)
            .join(' ')}: give one request id (put -- before an id that begins with "-")`,
        );
      }
      if (id !== undefined && /^--[a-z][a-z-]*$/.test(id)) {
        throw new CliError(`unknown option ${printable(id, 40)}; see certmaster explain --help`);
      }
      if (flags.data && flags.server) throw new CliError('give either --data DIR or --server URL, not both');
      if (!flags.data && !flags.server) {
        throw new CliError('say where the audit log is: --data DIR (local) or --server URL (remote)');
      }
      if ([id, flags.host, flags.acmeOrder].filter((x) => x !== undefined).length !== 1) {
        throw new CliError('give one of a request id, --host NAME or --acme-order ID');
      }
      const ctx: CommandContext = { dataDir: flags.data ?? null, server: flags.server ?? null };
      if (flags.acmeOrder !== undefined) await explainAcmeOrderCommand(flags.acmeOrder, flags);
      else if (flags.host !== undefined) await explainHostCommand(flags.host, flags, ctx);
      else if (id !== undefined) await explainOne(id, flags, ctx);
    });
}
