/**
 * What the read every Bearer request makes (the access-token denylist, src/auth/tokens/access-tokens.ts)
 * costs through Kysely and through the synchronous SQLite path (src/store/engine/compiled-reads.ts), in
 * the same process and run, rounds alternating. Prints CPU µs per read for both and their ratio.
 *
 *   node --import tsx bench/compiled-reads.ts [--reads 50000] [--rounds 3]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Kysely } from 'kysely';
import type { StoreDatabase } from '../src/store/certificates/schema.js';
import { type CompiledReads, kyselyReads, sqliteReads } from '../src/store/engine/compiled-reads.js';
import {
  CachedSqliteDatabase,
  ImmediateSqliteDialect,
  openSqliteFile,
} from '../src/store/engine/sqlite-database.js';
import { createAuthQueries } from '../src/store/identities/auth-queries.js';
import { openStore } from '../src/store/open.js';

const { values } = parseArgs({
  options: { reads: { type: 'string', default: '50000' }, rounds: { type: 'string', default: '3' } },
});
const READS = Number(values.reads);
const ROUNDS = Number(values.rounds);
for (const [name, value] of [
  ['--reads', READS],
  ['--rounds', ROUNDS],
] as const) {
  if (!Number.isSafeInteger(value) || value < 1 || value > 10_000_000) {
    throw new RangeError(`${name} must be an integer from 1 to 10,000,000`);
  }
}

/** CPU µs per read of `reads.read` for READS distinct token ids, none of them revoked (the usual case). */
async function cost(reads: CompiledReads, queries: ReturnType<typeof createAuthQueries>): Promise<number> {
  const ids = Array.from({ length: READS }, () => randomBytes(16).toString('base64url'));
  const family = randomBytes(16).toString('base64url');
  const before = process.cpuUsage();
  for (const jti of ids) {
    const { rows } = await reads.read(queries.accessTokenRevokedAt.bind({ jti, familyId: family }));
    if ((rows[0]?.revoked_at ?? null) !== null) throw new Error('a token never revoked reads as revoked');
  }
  const used = process.cpuUsage(before);
  return (used.user + used.system) / READS;
}

const dir = mkdtempSync(join(tmpdir(), 'cm-bench-reads-'));
try {
  const path = join(dir, 'store.db');
  await (await openStore(`sqlite:${path}`, { writerThread: false })).close(); // migrated
  const database = new CachedSqliteDatabase(openSqliteFile(path));
  const db = new Kysely<StoreDatabase>({ dialect: new ImmediateSqliteDialect({ database }) });
  const queries = createAuthQueries(db);
  const viaKysely = kyselyReads(db);
  const direct = sqliteReads(db, database);
  await cost(viaKysely, queries); // warm-up: statements prepared, code compiled
  await cost(direct, queries);
  console.log(`${READS} denylist reads per run, ${ROUNDS} rounds, alternating`);
  for (let round = 1; round <= ROUNDS; round++) {
    const kysely = await cost(viaKysely, queries);
    const sync = await cost(direct, queries);
    console.log(
      `round ${round}: through Kysely ${kysely.toFixed(2)} µs CPU per read; synchronous ${sync.toFixed(2)} µs; ` +
        `ratio ${(kysely / sync).toFixed(2)}`,
    );
  }
  await db.destroy();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
