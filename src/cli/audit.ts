/** `certmaster audit`: read, follow, verify and prune the audit log, locally or (reading) remotely. */

import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { anchorFromJson, anchorToJson, MAX_ANCHOR_BYTES } from '../audit/anchor.js';
import type { AuditCheckpoint, AuditFilter, SpaceReclaim } from '../audit/types.js';
import { ApiClient } from '../client/api.js';
import { openInstance } from '../instance/open.js';
import {
  ensureSpaceReserve,
  releaseSpaceReserve,
  SPACE_RESERVE_BYTES,
  SPACE_RESERVE_FILE,
} from '../instance/space-reserve.js';
import {
  type AuditRecordJson,
  auditRecordJson,
  auditRecordsFromJson,
  printable,
} from '../ops/explain/index.js';
import { parseDuration } from '../util/durations.js';
import { type TargetFlags, targetOptions } from './operator-backend.js';
import { CliError, printJson } from './output.js';

interface ListFlags extends TargetFlags {
  since?: string;
  until?: string;
  principal?: string;
  outcome?: 'success' | 'failure';
  reason?: string;
  requestId?: string;
  kind?: string;
  target?: string;
  limit: string;
  follow?: boolean;
  json?: boolean;
}

/** "2026-11-29", an ISO time, or a duration ago such as "15m", "24h", "7d". */
export function parseWhen(text: string, flag: string): Date {
  const ago = parseDuration(text);
  if (ago !== null) return new Date(Date.now() - ago * 1000);
  const t = Date.parse(text);
  if (Number.isNaN(t))
    throw new CliError(
      `${flag} "${text}" is neither a date (2026-11-29, 2026-11-29T10:00:00Z) nor a duration ago (15m, 24h, 7d)`,
    );
  return new Date(t);
}

function readAnchor(path: string): AuditCheckpoint {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new CliError(
      `cannot read the anchor ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (text.length > MAX_ANCHOR_BYTES) throw new CliError(`${path} is too large to be an audit anchor`);
  try {
    return anchorFromJson(text.trim());
  } catch (error) {
    throw new CliError(`${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function line(r: AuditRecordJson): string {
  const who = r.principal ?? (r.claimed_name ? `claimed ${r.claimed_name}` : '-');
  const what = [r.kind, r.phase, r.outcome, r.reason ?? ''].filter(Boolean).join(' ');
  const extra = [r.target ? `on ${r.target}` : '', r.cause ? `cause: ${r.cause}` : '']
    .filter(Boolean)
    .join('; ');
  return printable(
    `${r.at}  #${r.seq}  ${r.request_id}  ${what}  by ${who}${r.client_address ? ` from ${r.client_address}` : ''}${r.method ? ` via ${r.method}` : ''}${extra ? `  ${extra}` : ''}`,
    600,
  );
}

function filterOf(flags: ListFlags): AuditFilter {
  if (flags.outcome && flags.outcome !== 'success' && flags.outcome !== 'failure')
    throw new CliError('--outcome is success or failure');
  const limit = Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10000)
    throw new CliError('--limit is a whole number from 1 to 10000');
  return {
    ...(flags.since ? { since: parseWhen(flags.since, '--since') } : {}),
    ...(flags.until ? { until: parseWhen(flags.until, '--until') } : {}),
    ...(flags.principal ? { principal: flags.principal } : {}),
    ...(flags.outcome ? { outcome: flags.outcome } : {}),
    ...(flags.reason ? { reason: flags.reason } : {}),
    ...(flags.requestId ? { requestId: flags.requestId } : {}),
    ...(flags.kind ? { kind: flags.kind as AuditFilter['kind'] & string } : {}),
    ...(flags.target ? { target: flags.target } : {}),
    limit,
  } as AuditFilter;
}

function query(filter: AuditFilter): string {
  const q = new URLSearchParams();
  if (filter.since) q.set('since', filter.since.toISOString());
  if (filter.until) q.set('until', filter.until.toISOString());
  for (const [k, v] of [
    ['principal', filter.principal],
    ['outcome', filter.outcome],
    ['reason', filter.reason],
    ['request_id', filter.requestId],
    ['kind', filter.kind],
    ['target', filter.target],
  ] as const) {
    if (v) q.set(k, v);
  }
  if (filter.afterSeq !== undefined) q.set('after_seq', String(filter.afterSeq));
  if (filter.limit) q.set('limit', String(filter.limit));
  return q.toString();
}

export function registerAudit(program: Command): void {
  const audit = program
    .command('audit')
    .description('the audit log: every authentication, refusal and action, with its internal cause')
    .addHelpText(
      'after',
      `
Examples:
  certmaster audit --data DIR --since 1h --outcome failure
  certmaster audit --server URL --principal alice --json      # needs the auditor role
  certmaster audit --data DIR --follow                        # new records as they come
  certmaster audit verify --data DIR                          # check the hash chain
  certmaster audit checkpoint --export --data DIR > anchor    # keep this elsewhere
  certmaster audit verify --against anchor --data DIR         # fails after a tail cut or rewrite
  certmaster audit prune --before 2026-01-01 --data DIR       # a signed checkpoint replaces them
  certmaster explain REQUEST_ID --data DIR                    # the story of one request`,
    );

  targetOptions(audit.command('list', { isDefault: true }))
    .description('list records (oldest first), filtered')
    .option('--since <when>', 'from this time: a date, an ISO time, or a duration ago (1h, 7d)')
    .option('--until <when>', 'up to this time')
    .option('--principal <name>', 'who was authenticated')
    .option('--outcome <outcome>', 'success or failure')
    .option('--reason <code>', 'a reason code such as credentials_invalid')
    .option('--request-id <id>', 'one request')
    .option('--kind <kind>', 'auth.attempt, authz.refused, request.submit, request.approve, ...')
    .option('--target <what>', 'a host name, serial, account or token id acted on')
    .option('--limit <n>', 'at most this many records', '1000')
    .option('--follow', 'keep printing new records until interrupted')
    .option('--json', 'machine-readable output (one JSON object per line with --follow)')
    .action(async (flags: ListFlags) => {
      const filter = filterOf(flags);
      const show = (records: AuditRecordJson[], first: boolean) => {
        if (flags.json && !flags.follow) printJson(records);
        else for (const r of records) process.stdout.write(`${flags.json ? JSON.stringify(r) : line(r)}\n`);
        if (first && records.length === 0 && !flags.json && !flags.follow)
          process.stdout.write('No audit records match.\n');
      };
      let fetch: (f: AuditFilter) => Promise<AuditRecordJson[]>;
      let close: () => Promise<void>;
      if (flags.data && flags.server) throw new CliError('give either --data DIR or --server URL, not both');
      if (flags.data) {
        const instance = await openInstance(flags.data);
        fetch = async (f) => (await instance.store.queryAudit(f)).map(auditRecordJson);
        close = () => instance.close();
      } else if (flags.server) {
        const api = ApiClient.open(flags.server, {
          ...(flags.token ? { token: flags.token } : {}),
          ...(flags.caFile ? { caFile: flags.caFile } : {}),
        });
        fetch = async (f) =>
          auditRecordsFromJson(await api.call<unknown>('GET', `/v1/audit?${query(f)}`)).map(auditRecordJson);
        close = async () => api.close();
      } else throw new CliError('say where: --data DIR or --server URL');
      try {
        let records = await fetch(filter);
        show(records, true);
        if (!flags.follow) return;
        let last = records.at(-1)?.seq ?? (await fetch({ ...filter, limit: 1 })).at(-1)?.seq ?? 0;
        let stop = false;
        process.once('SIGINT', () => {
          stop = true;
        });
        while (!stop) {
          await new Promise((r) => setTimeout(r, 1000));
          records = await fetch({ ...filter, afterSeq: last });
          show(records, false);
          last = records.at(-1)?.seq ?? last;
        }
      } finally {
        await close();
      }
    });

  audit
    .command('verify')
    .description(
      'check the hash chain and the signed checkpoints; names the first broken record and how many records no checkpoint covers',
    )
    .requiredOption('--data <dir>', 'data directory')
    .option(
      '--against <file>',
      'also fail unless the log still contains or extends this anchor (from `audit checkpoint --export`)',
    )
    .option('--json', 'machine-readable output')
    .action(async (flags: { data: string; against?: string; json?: boolean }) => {
      const anchor = flags.against === undefined ? undefined : readAnchor(flags.against);
      const instance = await openInstance(flags.data);
      try {
        const result = await instance.audit.verify();
        const coverage = await instance.audit.coverage();
        const anchored = anchor === undefined ? undefined : await instance.audit.verifyAgainst(anchor);
        if (flags.json)
          printJson({
            ...result,
            uncovered: coverage.uncovered,
            newest_checkpoint_at: coverage.newestCheckpointAt?.toISOString() ?? null,
            newest_checkpoint_seq: coverage.newestCheckpointSeq,
            ...(anchored === undefined ? {} : { anchor: anchored }),
          });
        if (!result.ok)
          throw new CliError(`audit log BROKEN at record #${result.firstBrokenSeq}: ${result.why}`);
        if (anchored !== undefined && !anchored.ok)
          throw new CliError(`audit log does not extend the anchor in ${flags.against}: ${anchored.why}`);
        if (!flags.json) {
          const newest =
            coverage.newestCheckpointAt === null
              ? 'no checkpoint yet'
              : `newest checkpoint #${coverage.newestCheckpointSeq} signed ${coverage.newestCheckpointAt.toISOString()}`;
          process.stdout.write(
            `Audit log intact: ${result.records} records, ${result.checkpoints} signed checkpoints; ${newest}; ${coverage.uncovered} records after it no checkpoint covers.\n`,
          );
          if (anchored !== undefined)
            process.stdout.write(`The log contains the anchored checkpoint #${anchor?.seq}.\n`);
        }
      } finally {
        await instance.close();
      }
    });

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the newest record (unless one exists) and print it')
    .requiredOption('--data <dir>', 'data directory')
    .option('--export', 'print it as one line of JSON to keep outside the database (for verify --against)')
    .action(async (flags: { data: string; export?: boolean }) => {
      const instance = await openInstance(flags.data);
      try {
        const checkpoint = await instance.audit.checkpointHead();
        if (checkpoint === null) throw new CliError('the audit log is empty: nothing to checkpoint');
        process.stdout.write(
          flags.export
            ? `${JSON.stringify(anchorToJson(checkpoint))}\n`
            : `Signed checkpoint of record #${checkpoint.seq} (${checkpoint.hash.slice(0, 16)}…) at ${checkpoint.at.toISOString()}.\n`,
        );
      } finally {
        await instance.close();
      }
    });

  audit
    .command('prune')
    .description('remove records older than a date; a signed checkpoint keeps the chain verifiable')
    .addHelpText(
      'after',
      `
Space: on SQLite the removed records' space goes back to the filesystem (incremental vacuum). A
database made before certmaster switched that on is switched once, by a full VACUUM on its first
prune (it needs free space of about the database's size, and holds the write lock while it runs:
prune that first time while the server is stopped or quiet; the output says when it happened). Pruning
also works on a full disk: it first frees the ${SPACE_RESERVE_BYTES / (1024 * 1024)} MiB kept in DIR/${SPACE_RESERVE_FILE} for this, removes
records in steps small enough for the space left, and puts the reserve back. On
PostgreSQL no VACUUM is run: autovacuum reuses the space of deleted rows.`,
    )
    .requiredOption(
      '--before <date>',
      'remove records older than this (a date, or a duration ago such as 90d)',
    )
    .requiredOption('--data <dir>', 'data directory')
    .action(async (flags: { before: string; data: string }) => {
      const before = parseWhen(flags.before, '--before');
      // On a full disk SQLite cannot open its log: the reserve kept for this is freed first.
      const released = releaseSpaceReserve(flags.data);
      const instance = await openInstance(flags.data, { spaceReserve: false });
      try {
        const { removed, checkpoint, space } = await instance.audit.prune(before);
        process.stdout.write(
          removed === 0
            ? `Nothing older than ${before.toISOString()}.\n`
            : `Removed ${removed} records up to #${checkpoint?.seq}; signed checkpoint ${checkpoint?.hash.slice(0, 16)}… vouches for them.\n`,
        );
        if (space !== null) process.stdout.write(`${spaceLine(space)}\n`);
      } finally {
        await instance.close();
        if (!ensureSpaceReserve(flags.data) && released) {
          process.stdout.write(
            `The disk is still too full to put back the ${SPACE_RESERVE_BYTES / (1024 * 1024)} MiB space reserve (${SPACE_RESERVE_FILE}); it is made again at the next start.\n`,
          );
        }
      }
    });
}

/** What became of the pruned records' space, in one line. */
export function spaceLine(space: SpaceReclaim): string {
  if (space.engine === 'postgres') {
    return 'Space: PostgreSQL autovacuum reuses it; no VACUUM needed.';
  }
  const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (space.failed !== null) {
    return `Space: not returned to the filesystem: ${space.failed}.`;
  }
  const switched = space.switchedOn
    ? 'incremental vacuum switched on for this database (a one-time full VACUUM); '
    : '';
  return `Space: ${switched}database file ${mib(space.bytesBefore)} -> ${mib(space.bytesAfter)}.`;
}
