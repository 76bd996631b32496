/**
 * Why serials and request ids begin with the time (src/util/time-ordered-id.ts): rows inserted into a
 * SQLite table keyed by 16 random octets against the same table keyed by time-ordered ones, in group
 * commits of 32 as a busy server makes them, with the store's settings (WAL, synchronous = FULL,
 * 16 MiB cache), after EXISTING rows are already there. Prints CPU µs and WAL bytes per row, and the
 * ratio of the time-ordered figure to the random one (the baseline, measured in the same run).
 *
 *   node --import tsx bench/key-order.ts [--existing 20000,200000] [--rounds 2]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { timeOrderedBytes } from '../src/util/time-ordered-id.js';

const { values } = parseArgs({
  options: {
    existing: { type: 'string', default: '20000,200000' },
    rounds: { type: 'string', default: '2' },
  },
});
const EXISTING = (values.existing ?? '').split(',').map(Number);
const ROUNDS = Number(values.rounds);
if (!EXISTING.every((n) => Number.isSafeInteger(n) && n >= 0 && n <= 5_000_000)) {
  throw new RangeError('--existing takes row counts from 0 to 5,000,000, separated by commas');
}
if (!Number.isSafeInteger(ROUNDS) || ROUNDS < 1 || ROUNDS > 100) throw new RangeError('--rounds is 1 to 100');

const BATCHES = 400;
const PER_COMMIT = 32;

interface Cost {
  cpuUs: number;
  walBytes: number;
}

function insertCost(directory: string, key: () => string, existing: number): Cost {
  const path = join(directory, `${randomBytes(4).toString('hex')}.db`);
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('cache_size = -16384');
    db.pragma('wal_autocheckpoint = 10000');
    db.pragma('temp_store = MEMORY');
    db.exec(
      'create table certificates (serial text primary key, common_name text not null, pem text not null)',
    );
    db.exec('create index certificates_common_name on certificates(common_name)');
    const insert = db.prepare('insert into certificates values (?, ?, ?)');
    const pem = 'x'.repeat(700);
    db.transaction(() => {
      for (let i = 0; i < existing; i++) insert.run(key(), `host-${i}.example`, pem);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const begin = db.prepare('begin immediate');
    const commit = db.prepare('commit');
    const keys = Array.from({ length: BATCHES * PER_COMMIT }, key);
    const wal0 = statSync(`${path}-wal`).size;
    const cpu0 = process.cpuUsage();
    for (let b = 0; b < BATCHES; b++) {
      begin.run();
      for (let i = 0; i < PER_COMMIT; i++) insert.run(keys[b * PER_COMMIT + i], `new-${b}-${i}.example`, pem);
      commit.run();
    }
    const cpu = process.cpuUsage(cpu0);
    const rows = BATCHES * PER_COMMIT;
    return { cpuUs: (cpu.user + cpu.system) / rows, walBytes: (statSync(`${path}-wal`).size - wal0) / rows };
  } finally {
    db.close();
  }
}

const random = (): string => randomBytes(16).toString('hex');
const timeOrdered = (): string => timeOrderedBytes(16).toString('hex');

const directory = mkdtempSync(join(tmpdir(), 'certmaster-key-order-'));
try {
  console.log(`${BATCHES * PER_COMMIT} rows per run, ${PER_COMMIT} per commit`);
  for (const existing of EXISTING) {
    for (let round = 1; round <= ROUNDS; round++) {
      const before = insertCost(directory, random, existing);
      const after = insertCost(directory, timeOrdered, existing);
      console.log(
        `${existing} rows before, round ${round}: random keys ${before.cpuUs.toFixed(1)} µs CPU and ` +
          `${(before.walBytes / 1024).toFixed(1)} KiB of WAL per row; time-ordered ${after.cpuUs.toFixed(1)} µs ` +
          `and ${(after.walBytes / 1024).toFixed(1)} KiB; ratio ${(after.cpuUs / before.cpuUs).toFixed(2)} (CPU), ` +
          `${(after.walBytes / before.walBytes).toFixed(2)} (WAL)`,
      );
    }
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
