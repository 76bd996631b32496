/**
 * Writes to SQLite from a worker thread (sqlite-writer-thread.ts) with its own connection and group
 * commit, so BEGIN/COMMIT, the inserts and the fsync of every write leave the main thread's event loop;
 * the main thread keeps its own connection for reads (WAL lets them run beside the writer).
 *
 * Fails closed: when the thread dies, every write it had not answered rejects with
 * WriterThreadStoppedError (the audit log then reports itself unavailable, so the actions it was to
 * record are refused), and the next write starts a new thread. A write is answered only after the
 * COMMIT that made it durable has returned in the thread, so nothing acknowledged can be lost; a write
 * that rejected this way may still have committed just before the thread died.
 */
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type * as Esbuild from 'esbuild';
import type { WriteArgs, WriteExecutor, WriteName, WriteResult } from '../write-registry.js';
import { StoreClosedError } from './group-commit.js';
import {
  decodeError,
  type FromWriter,
  reviveBuffers,
  type ToWriter,
  type WriteRequest,
} from './thread-transfer.js';

/** The thread's entry, in the same form as this module: .js from dist/, .ts under tsx (tests, tools). */
const SOURCE_EXTENSION = extname(fileURLToPath(import.meta.url));
const THREAD_ENTRY = new URL(`./sqlite-writer-thread${SOURCE_EXTENSION}`, import.meta.url);

let threadScript: string | null = null;

/**
 * Under tsx, the thread's code as one CommonJS script whose packages are required from here. tsx's
 * `--import` hook does not reach worker threads, and registering it in each thread costs seconds of
 * per-module transforms (every test opens stores); bundled once per process, a thread starts as fast
 * as from dist/. esbuild comes with tsx, which is what runs .ts sources; dist/ never gets here.
 */
function bundledThreadScript(): string {
  if (threadScript === null) {
    const fromTsx = createRequire(fileURLToPath(import.meta.resolve('tsx/esm/api')));
    const { buildSync } = fromTsx('esbuild') as typeof Esbuild;
    const result = buildSync({
      entryPoints: [fileURLToPath(THREAD_ENTRY)],
      bundle: true,
      write: false,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      sourcemap: 'inline',
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]?.text ?? '';
    threadScript = `(function (require) {\n${code}\n})(require('node:module').createRequire(${JSON.stringify(fileURLToPath(import.meta.url))}));`;
  }
  return threadScript;
}

function startWorker(path: string): Worker {
  const options = { workerData: { path } };
  return SOURCE_EXTENSION === '.ts'
    ? new Worker(bundledThreadScript(), { ...options, eval: true })
    : new Worker(THREAD_ENTRY, options);
}

/** The writer thread stopped before answering: the write may or may not have committed. */
export class WriterThreadStoppedError extends Error {
  readonly code = 'writer_thread_stopped';

  constructor(why: string, options?: { cause?: unknown }) {
    super(`the store's writer thread stopped (${why}) before answering`, options);
    this.name = 'WriterThreadStoppedError';
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/** One worker thread and the writes it owes answers for. */
class WriterThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #onStop: (thread: WriterThread) => void;
  #outbox: WriteRequest[] = [];
  #flushScheduled = false;
  #nextId = 1;
  #stopped = false;
  #closing = false;
  #terminating = false;
  #referenced = false;
  readonly #exited: Promise<void>;

  constructor(path: string, onStop: (thread: WriterThread) => void) {
    this.#onStop = onStop;
    this.#worker = startWorker(path);
    // Idle, the thread must not keep the process alive; while it owes answers, it must (see #track).
    this.#worker.unref();
    this.#worker.on('message', (message: FromWriter) => this.#receive(message));
    this.#worker.on('messageerror', (error) => {
      this.#stop(new WriterThreadStoppedError('an answer could not be read', { cause: error }));
      void this.#worker.terminate();
    });
    let error: unknown;
    this.#worker.on('error', (thrown) => {
      error = thrown;
    });
    this.#exited = new Promise((resolve) => {
      this.#worker.on('exit', (code) => {
        const why = error instanceof Error ? error.message : `exit code ${code}`;
        this.#stop(new WriterThreadStoppedError(why, { cause: error }));
        resolve();
      });
    });
  }

  submit(name: string, args: unknown[]): Promise<unknown> {
    if (this.#terminating) return Promise.reject(new WriterThreadStoppedError('it was terminated'));
    if (this.#stopped || this.#closing) {
      return Promise.reject(new WriterThreadStoppedError('it was stopping'));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#track();
      this.#outbox.push({ id, name, args });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // At the end of this turn of the event loop: the writes of all its callbacks go in one message.
        setImmediate(() => this.#flush());
      }
    });
  }

  /** Sends what is queued, asks the thread to commit it and stop, and resolves when it has exited. */
  close(): Promise<void> {
    if (!this.#stopped && !this.#closing) {
      this.#flush();
      this.#closing = true;
      this.#worker.ref();
      this.#post({ kind: 'close' });
    }
    return this.#exited;
  }

  /**
   * Ends the thread at once, as a crash would. From this call on, the thread takes no write, and the
   * writes still queued here are refused, not sent: a write submitted after the crash began must not
   * reach the dying thread and be answered in the moment before it exits.
   */
  terminate(): Promise<void> {
    if (!this.#stopped && !this.#terminating) {
      this.#terminating = true;
      const queued = this.#outbox;
      this.#outbox = [];
      const error = new WriterThreadStoppedError('it was terminated');
      for (const write of queued) this.#settle(write.id)?.reject(error);
    }
    void this.#worker.terminate();
    return this.#exited;
  }

  #post(message: ToWriter): void {
    this.#worker.postMessage(message);
  }

  #flush(): void {
    this.#flushScheduled = false;
    const writes = this.#outbox;
    this.#outbox = [];
    if (writes.length === 0 || this.#stopped) return;
    try {
      this.#post({ kind: 'writes', writes });
    } catch {
      // An argument the clone cannot carry (a caller's bug): refuse that write alone.
      for (const write of writes) {
        try {
          this.#post({ kind: 'writes', writes: [write] });
        } catch (error) {
          this.#settle(write.id)?.reject(error);
        }
      }
    }
  }

  #receive(message: FromWriter): void {
    if (message.kind !== 'answers') return;
    for (const answer of message.answers) {
      const pending = this.#settle(answer.id);
      if (pending === undefined) continue;
      if (answer.ok) {
        pending.resolve(reviveBuffers(answer.value));
      } else {
        pending.reject(decodeError(answer.error));
      }
    }
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    this.#track();
    return pending;
  }

  /** Keeps the process alive exactly while answers are owed (or the thread is closing). */
  #track(): void {
    if (this.#closing || this.#stopped) return;
    const owing = this.#pending.size > 0;
    if (owing !== this.#referenced) {
      this.#referenced = owing;
      if (owing) this.#worker.ref();
      else this.#worker.unref();
    }
  }

  #stop(error: WriterThreadStoppedError): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#outbox = [];
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const { reject } of pending) reject(error);
    this.#onStop(this);
  }
}

export class ThreadedSqliteWriter implements WriteExecutor {
  readonly #path: string;
  #thread: WriterThread | null;
  #closed = false;

  /** Starts the thread at once, so the first write does not wait for it. */
  constructor(path: string) {
    this.#path = path;
    this.#thread = this.#start();
  }

  execute<N extends WriteName>(name: N, ...args: WriteArgs<N>): Promise<WriteResult<N>> {
    if (this.#closed) {
      return Promise.reject(new StoreClosedError());
    }
    try {
      this.#thread ??= this.#start();
    } catch (error) {
      return Promise.reject(new WriterThreadStoppedError('it could not be started', { cause: error }));
    }
    return this.#thread.submit(name, args) as Promise<WriteResult<N>>;
  }

  /** Lets every accepted write commit and be answered, then ends the thread. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#thread?.close();
  }

  /**
   * Kills the writer thread as a crash would: its unanswered writes reject, and the next write starts a
   * new thread. For tests of failing closed.
   */
  async terminateThread(): Promise<void> {
    await this.#thread?.terminate();
  }

  #start(): WriterThread {
    return new WriterThread(this.#path, (stopped) => {
      if (this.#thread === stopped) this.#thread = null;
    });
  }
}
