import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CompiledQuery, Kysely } from 'kysely';
import { sqliteReads } from '../../src/store/engine/compiled-reads.js';
import {
  CachedSqliteDatabase,
  ImmediateSqliteDialect,
  openSqliteFile,
} from '../../src/store/engine/sqlite-database.js';

const dir = mkdtempSync(join(tmpdir(), 'cm-compiled-reads-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function open(name: string) {
  const database = new CachedSqliteDatabase(openSqliteFile(join(dir, name)));
  const kysely = new Kysely<Record<string, never>>({ dialect: new ImmediateSqliteDialect({ database }) });
  database.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)');
  return { database, kysely, reads: sqliteReads(kysely, database) };
}

const allNotes = CompiledQuery.raw('SELECT id, text FROM notes ORDER BY id') as CompiledQuery<{
  id: number;
  text: string;
}>;

/** Whether `promise` has settled once the microtasks queued so far have run. */
async function settledNow(promise: Promise<unknown>, ticks = 20): Promise<boolean> {
  let settled = false;
  void promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  for (let i = 0; i < ticks; i++) await Promise.resolve();
  return settled;
}

describe('compiled reads on SQLite', () => {
  it('answer at once when no transaction is open, with what is committed', async () => {
    const { database, kysely, reads } = open('plain.db');
    database.exec("INSERT INTO notes (text) VALUES ('committed')");
    const read = reads.read(allNotes);
    // Through Kysely's lock a read takes 10 or more microtask ticks; this one is done after two.
    assert.equal(await settledNow(read, 2), true);
    assert.deepEqual((await read).rows, [{ id: 1, text: 'committed' }]);
    await kysely.destroy();
    database.close();
  });

  it('wait behind a transaction that holds the connection, and never see what it had not committed', async () => {
    const { database, kysely, reads } = open('held.db');
    database.exec("INSERT INTO notes (text) VALUES ('before')");
    const inside: { read?: Promise<{ rows: Array<{ id: number; text: string }> }>; settled?: boolean } = {};
    // What the group commit does (sqlite-writer.ts): hold Kysely's connection, BEGIN, write, yield to
    // other callers' microtasks, then end the transaction.
    await kysely.connection().execute(async () => {
      database.exec('BEGIN IMMEDIATE');
      database.exec("INSERT INTO notes (text) VALUES ('rolled back')");
      inside.read = reads.read(allNotes);
      inside.settled = await settledNow(inside.read);
      database.exec('ROLLBACK');
    });
    assert.equal(inside.settled, false, 'a read inside an open transaction waited for the connection');
    assert.ok(inside.read);
    assert.deepEqual((await inside.read).rows, [{ id: 1, text: 'before' }]);
    await kysely.destroy();
  });

  it('reject with the error SQLite raises, not throw', async () => {
    const { database, kysely, reads } = open('error.db');
    const missing = CompiledQuery.raw('SELECT * FROM no_such_table');
    const read = reads.read(missing);
    assert.ok(read instanceof Promise);
    await assert.rejects(read, /no such table/);
    await kysely.destroy();
    database.close();
  });
});
