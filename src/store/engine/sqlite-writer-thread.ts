/**
 * The SQLite writer thread's entry point (started by threaded-sqlite-writer.ts). It owns the database's
 * only write connection and runs the same group commit as the in-thread writer (sqlite-writer.ts): one
 * BEGIN IMMEDIATE ... COMMIT per batch, a savepoint per operation. An answer leaves only after the COMMIT
 * of its operation has returned, and the answers of one commit leave in one message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Kysely } from 'kysely';
import type { StoreDatabase } from '../certificates/schema.js';
import { createWriteKit } from '../write-registry.js';
import { CachedSqliteDatabase, ImmediateSqliteDialect, openSqliteFile } from './sqlite-database.js';
import { SqliteGroupCommitWriter } from './sqlite-writer.js';
import {
  encodeError,
  type FromWriter,
  reviveBuffers,
  type ToWriter,
  type WriteAnswer,
  type WriteRequest,
} from './thread-transfer.js';

const port = parentPort;
if (port === null) {
  throw new Error('sqlite-writer-thread runs as a worker thread only');
}
const { path } = workerData as { path: string };

const database = new CachedSqliteDatabase(openSqliteFile(path));
const kysely = new Kysely<StoreDatabase>({ dialect: new ImmediateSqliteDialect({ database }) });
const writer = new SqliteGroupCommitWriter(kysely, database, createWriteKit(kysely, 'sqlite'));

let outbox: WriteAnswer[] = [];
let flushScheduled = false;

function post(message: FromWriter): void {
  port?.postMessage(message);
}

function flush(): void {
  flushScheduled = false;
  const answers = outbox;
  outbox = [];
  if (answers.length === 0) return;
  try {
    post({ kind: 'answers', answers });
  } catch {
    // A value the clone cannot carry: send the others, and that one as an error (its write committed).
    for (const answer of answers) {
      try {
        post({ kind: 'answers', answers: [answer] });
      } catch (error) {
        post({ kind: 'answers', answers: [{ id: answer.id, ok: false, error: encodeError(error) }] });
      }
    }
  }
}

function answer(reply: WriteAnswer): void {
  outbox.push(reply);
  if (!flushScheduled) {
    flushScheduled = true;
    // A microtask, queued behind the answers of the commit that settled this operation, so they all go
    // in one message; not setImmediate, which would run after the next batch (also a setImmediate) had
    // committed too, holding these answers back by a whole commit.
    queueMicrotask(flush);
  }
}

function accept(write: WriteRequest): void {
  writer.run(write.name, reviveBuffers(write.args)).then(
    (value) => answer({ id: write.id, ok: true, value }),
    (error: unknown) => answer({ id: write.id, ok: false, error: encodeError(error) }),
  );
}

async function close(): Promise<void> {
  try {
    await writer.close();
  } finally {
    await kysely.destroy();
    flush();
    post({ kind: 'closed' });
    port?.close();
  }
}

port.on('message', (message: ToWriter) => {
  if (message.kind === 'writes') {
    for (const write of message.writes) accept(write);
  } else {
    void close();
  }
});
