/**
 * What one audit record costs the process that writes it: an AuditLog over a fresh SQLite store (the
 * writer on the main thread, as `certmaster serve` runs by default), fed the record an authenticated
 * request writes, GROUP records per event-loop turn (what a busy front door batches into one commit).
 * Prints CPU µs per record (process CPU, all threads, which a busy machine moves far less than the
 * wall clock), wall µs per record, and, measured in the same run, the floor: the same rows inserted
 * with one prepared better-sqlite3 statement in the same transactions, no chain and no checks.
 *
 * With --writer-thread the store writes from its worker thread (`store.writer_thread true`), and the main
 * thread's share of the CPU is printed too.
 *
 *   node --import tsx bench/audit-append.ts [--records 20000] [--group 18] [--rounds 3] [--writer-thread]
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { auditSigningKey } from '../src/audit/checkpoint.js';
import { AuditLog } from '../src/audit/log.js';
import type { AuditEvent } from '../src/audit/types.js';
import { openSqliteFile } from '../src/store/engine/sqlite-database.js';
import { openStore } from '../src/store/open.js';
import { systemClock } from '../src/types.js';

const { values } = parseArgs({
  options: {
    records: { type: 'string', default: '20000' },
    group: { type: 'string', default: '18' },
    rounds: { type: 'string', default: '3' },
    'writer-thread': { type: 'boolean', default: false },
  },
});
const RECORDS = Number(values.records);
const GROUP = Number(values.group);
const ROUNDS = Number(values.rounds);
const WRITER_THREAD = values['writer-thread'] === true;
for (const [name, value] of [
  ['--records', RECORDS],
  ['--group', GROUP],
  ['--rounds', ROUNDS],
] as const) {
  if (!Number.isSafeInteger(value) || value < 1 || value > 1_000_000) {
    throw new RangeError(`${name} must be an integer from 1 to 1,000,000`);
  }
}

/** What `authenticatedEvent` (src/http/audit-events.ts) records for a Bearer request. */
function bearerEvent(): AuditEvent {
  return {
    at: new Date(),
    requestId: `${Date.now().toString(36)}-${randomBytes(9).toString('base64url')}`,
    kind: 'auth.attempt',
    phase: 'decision',
    outcome: 'success',
    reason: null,
    principal: 'bench-client',
    claimedName: null,
    method: 'bearer',
    credentialId: 'tok_0123456789abcdef',
    clientAddress: '127.0.0.1',
    cause: null,
    told: null,
    target: 'GET /v1/whoami',
    details: {},
  };
}

interface Cost {
  cpuUs: number;
  wallUs: number;
  /** The main thread's CPU per record (Linux schedstat of the thread whose id is the process id). */
  mainUs: number;
}

/** The main thread's time on a CPU so far, in ns: the first field of its schedstat. */
function mainThreadCpuNs(): number {
  return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
}

async function measure(run: () => Promise<void>): Promise<Cost> {
  const cpu0 = process.cpuUsage();
  const wall0 = process.hrtime.bigint();
  const main0 = mainThreadCpuNs();
  await run();
  const mainNs = mainThreadCpuNs() - main0;
  const cpu = process.cpuUsage(cpu0);
  const wallUs = Number(process.hrtime.bigint() - wall0) / 1000;
  return {
    cpuUs: (cpu.user + cpu.system) / RECORDS,
    wallUs: wallUs / RECORDS,
    mainUs: mainNs / 1000 / RECORDS,
  };
}

async function auditLogCost(directory: string): Promise<Cost> {
  const store = await openStore(`sqlite:${join(directory, `log-${randomBytes(4).toString('hex')}.db`)}`, {
    writerThread: WRITER_THREAD,
  });
  const log = new AuditLog({
    store,
    clock: systemClock,
    signer: auditSigningKey(generateKeyPairSync('ed25519').privateKey),
  });
  try {
    await log.record(bearerEvent()); // statements prepared before the clock starts
    const events = Array.from({ length: RECORDS }, bearerEvent); // and the events made
    return await measure(async () => {
      for (let done = 0; done < RECORDS; done += GROUP) {
        const group = events.slice(done, done + GROUP);
        await Promise.all(group.map((event) => log.record(event)));
      }
    });
  } finally {
    await log.close();
    await store.close();
  }
}

const COLUMNS = [
  'seq',
  'at',
  'request_id',
  'kind',
  'phase',
  'outcome',
  'reason',
  'principal',
  'claimed_name',
  'method',
  'credential_id',
  'client_address',
  'cause',
  'told',
  'target',
  'details',
  'prev_hash',
  'hash',
];

/** The same rows in the same transactions through one prepared statement: what SQLite alone costs. */
async function floorCost(directory: string): Promise<Cost> {
  const path = join(directory, `floor-${randomBytes(4).toString('hex')}.db`);
  const migrated = await openStore(`sqlite:${path}`, { writerThread: false });
  await migrated.close();
  const db = openSqliteFile(path);
  try {
    const insert = db.prepare(
      `insert into audit_events (${COLUMNS.join(', ')}) values (${COLUMNS.map(() => '?').join(', ')})`,
    );
    const begin = db.prepare('begin immediate');
    const commit = db.prepare('commit');
    // Distinct hashes, as the log's are: 64 hex digits each, made before the clock starts.
    const hashes = Array.from({ length: RECORDS + 1 }, () => randomBytes(32).toString('hex'));
    const all = Array.from({ length: RECORDS }, bearerEvent);
    let seq = 0;
    return await measure(async () => {
      for (let done = 0; done < RECORDS; done += GROUP) {
        const events = all.slice(done, done + GROUP);
        await new Promise((resolve) => setImmediate(resolve));
        begin.run();
        for (const e of events) {
          seq++;
          insert.run([
            seq,
            e.at.getTime(),
            e.requestId,
            e.kind,
            e.phase,
            e.outcome,
            e.reason,
            e.principal,
            e.claimedName,
            e.method,
            e.credentialId,
            e.clientAddress,
            e.cause,
            null,
            e.target,
            '{}',
            hashes[seq - 1],
            hashes[seq],
          ]);
        }
        commit.run();
      }
    });
  } finally {
    db.close();
  }
}

const directory = mkdtempSync(join(tmpdir(), 'certmaster-audit-append-'));
try {
  console.log(`${RECORDS} records per run, ${GROUP} per event-loop turn, ${ROUNDS} rounds, alternating`);
  for (let round = 1; round <= ROUNDS; round++) {
    const log = await auditLogCost(directory);
    const floor = await floorCost(directory);
    console.log(
      `round ${round}: AuditLog${WRITER_THREAD ? ' (writer thread)' : ''} ${log.cpuUs.toFixed(1)} µs CPU, ` +
        `main thread ${log.mainUs.toFixed(1)} µs (${log.wallUs.toFixed(1)} wall) per record; ` +
        `bare INSERT floor ${floor.cpuUs.toFixed(1)} µs CPU (${floor.wallUs.toFixed(1)} wall); ` +
        `ratio ${(log.cpuUs / floor.cpuUs).toFixed(2)}`,
    );
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
