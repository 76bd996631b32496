/**
 * The CPU-heavy part of issuance (a CSR's key import and signature check, the certificate's signature) on
 * worker threads, so that the event loop keeps serving TLS, HTTP and the store while other cores do the
 * crypto. Jobs queued during one turn of the event loop go to a thread as one message; each thread has at
 * most one batch in flight, so later jobs gather into the next batch instead of queueing message by message.
 *
 * `InlineCrypto` does the same on the calling thread: the CLI's short-lived commands, and `serve` with
 * `server.crypto_threads = 0`.
 */
import { sign } from 'node:crypto';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/module-worker.js';
import type { CryptoAnswer, CryptoJob, FromCryptoThread, ToCryptoThread } from './crypto-messages.js';
import type { PossessionChecker } from './csr.js';
import type { SigningParameters, TbsSigner } from './issuer.js';
import { type PossessionJob, type PossessionOutcome, possessionOutcome } from './possession.js';

export interface CryptoService extends PossessionChecker {
  /** A signer with this CA key; the key is handed to every thread once, here. */
  signer(parameters: SigningParameters): TbsSigner;
  close(): Promise<void>;
}

/** A crypto thread stopped (crashed or was ended) before it answered. */
export class CryptoThreadError extends Error {
  override name = 'CryptoThreadError';
}

export class InlineCrypto implements CryptoService {
  checkPossession(job: PossessionJob): Promise<PossessionOutcome> {
    return possessionOutcome(job);
  }

  signer(parameters: SigningParameters): TbsSigner {
    const key = parameters.dsaEncoding
      ? { key: parameters.key, dsaEncoding: 'der' as const }
      : parameters.key;
    return { signTbs: (tbs) => Promise.resolve(sign(parameters.hash, tbs, key)) };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

interface Pending {
  job: CryptoJob;
  resolve(answer: CryptoAnswer): void;
  reject(reason: unknown): void;
}

interface Thread {
  worker: Worker;
  /** The batch in flight, or null when the thread is idle. */
  inFlight: { id: number; jobs: Pending[] } | null;
}

export interface CryptoPoolOptions {
  threads: number;
  /** Jobs per message at most, so one thread's batch does not hold up the answers of many callers. */
  maxBatch?: number;
  /** Told when a thread stops unexpectedly (it is replaced). */
  onThreadError?: (error: Error) => void;
  /** Told of every thread started (tests end one to show a lost thread fails its jobs, not the pool). */
  onThreadStart?: (worker: Worker) => void;
}

const MAX_FAILURES_IN_ROW = 8;

type Registered = Extract<ToCryptoThread, { kind: 'key' }>;

export class CryptoPool implements CryptoService {
  readonly #threads: Thread[] = [];
  readonly #wanted: number;
  #started = false;
  readonly #queue: Pending[] = [];
  readonly #keys: Registered[] = [];
  readonly #maxBatch: number;
  readonly #onThreadError: ((error: Error) => void) | undefined;
  readonly #onThreadStart: ((worker: Worker) => void) | undefined;
  /** Messages sent to threads: a batch each. */
  #batchesSent = 0;
  #nextBatch = 1;
  /** Threads that stopped since one last answered: a thread that cannot start is not restarted forever. */
  #failuresInRow = 0;
  #flushScheduled = false;
  #closed = false;

  constructor(options: CryptoPoolOptions) {
    if (!Number.isSafeInteger(options.threads) || options.threads < 1 || options.threads > 64) {
      throw new RangeError('a crypto pool has 1 to 64 threads');
    }
    this.#maxBatch = options.maxBatch ?? 64;
    this.#onThreadError = options.onThreadError;
    this.#onThreadStart = options.onThreadStart;
    this.#wanted = options.threads;
  }

  /** Threads running now: none until the first job, so a server that never issues starts none. */
  get size(): number {
    return this.#threads.length;
  }

  /** Batches sent so far: fewer than the jobs when callers arrive together. */
  get batchesSent(): number {
    return this.#batchesSent;
  }

  async checkPossession(job: PossessionJob): Promise<PossessionOutcome> {
    const answer = await this.#submit({ op: 'possession', job });
    if (answer.op !== 'possession') throw new Error(`a crypto thread answered ${answer.op} to a CSR check`);
    return answer.outcome;
  }

  signer(parameters: SigningParameters): TbsSigner {
    const registered: Registered = { kind: 'key', id: this.#keys.length + 1, ...parameters };
    this.#keys.push(registered);
    for (const thread of this.#threads) thread.worker.postMessage(registered);
    return {
      signTbs: async (tbs) => {
        const answer = await this.#submit({ op: 'sign', key: registered.id, data: tbs });
        if (answer.op !== 'sign') throw new Error(`a crypto thread answered ${answer.op} to a signature`);
        return Buffer.from(answer.signature.buffer, answer.signature.byteOffset, answer.signature.byteLength);
      },
    };
  }

  /** Lets the jobs in flight finish, refuses new ones, and ends the threads. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#started = true;
    while (this.#queue.length > 0 || this.#threads.some((t) => t.inFlight !== null)) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(this.#threads.map((t) => t.worker.terminate()));
  }

  #submit(job: CryptoJob): Promise<CryptoAnswer> {
    if (!this.#started) {
      this.#started = true;
      for (let i = 0; i < this.#wanted; i++) this.#threads.push(this.#start());
    }
    if (this.#threads.length === 0)
      return Promise.reject(new CryptoThreadError('no crypto thread is running'));
    if (this.#closed) return Promise.reject(new CryptoThreadError('the crypto threads are closed'));
    return new Promise<CryptoAnswer>((resolve, reject) => {
      this.#queue.push({ job, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        // After this turn's I/O callbacks: every request parsed in this turn joins the batch.
        setImmediate(() => {
          this.#flushScheduled = false;
          this.#flush();
        });
      }
    }).then((answer) => {
      if (answer.op === 'failed') throw new Error(answer.message);
      return answer;
    });
  }

  #flush(): void {
    const idle = this.#threads.filter((t) => t.inFlight === null);
    if (idle.length === 0 || this.#queue.length === 0) return;
    // Shares the queue among the idle threads, so a burst keeps every core busy.
    const share = Math.min(this.#maxBatch, Math.ceil(this.#queue.length / idle.length));
    for (const thread of idle) {
      if (this.#queue.length === 0) break;
      const jobs = this.#queue.splice(0, share);
      const id = this.#nextBatch++;
      thread.inFlight = { id, jobs };
      const message: ToCryptoThread = { kind: 'batch', batch: id, jobs: jobs.map((p) => p.job) };
      // Held open while it owes an answer; an idle thread keeps no process alive.
      thread.worker.ref();
      thread.worker.postMessage(message);
      this.#batchesSent++;
    }
  }

  #start(): Thread {
    const worker = startModuleWorker(import.meta.url, 'crypto-thread', { name: 'certmaster-crypto' });
    const thread: Thread = { worker, inFlight: null };
    for (const key of this.#keys) worker.postMessage(key);
    worker.on('message', (reply: FromCryptoThread) => {
      const inFlight = thread.inFlight;
      if (inFlight === null || inFlight.id !== reply.batch) return;
      thread.inFlight = null;
      thread.worker.unref();
      this.#failuresInRow = 0;
      inFlight.jobs.forEach((pending, i) => {
        const answer = reply.answers[i];
        if (answer) pending.resolve(answer);
        else pending.reject(new CryptoThreadError('a crypto thread answered fewer jobs than it was given'));
      });
      this.#flush();
    });
    const stopped = (error: Error): void => {
      const lost = thread.inFlight;
      thread.inFlight = null;
      for (const pending of lost?.jobs ?? []) pending.reject(error);
      if (this.#closed) return;
      this.#onThreadError?.(error);
      const index = this.#threads.indexOf(thread);
      if (index < 0) return;
      if (++this.#failuresInRow > MAX_FAILURES_IN_ROW) {
        // Fail closed: nothing is signed on a thread that cannot run, and nobody waits forever.
        this.#threads.splice(index, 1);
        if (this.#threads.length === 0) {
          for (const pending of this.#queue.splice(0)) pending.reject(error);
        }
        return;
      }
      this.#threads[index] = this.#start();
      this.#flush();
    };
    worker.on('error', (e) => stopped(new CryptoThreadError(`a crypto thread failed: ${e.message}`)));
    worker.on('exit', (code) => {
      if (this.#threads.includes(thread))
        stopped(new CryptoThreadError(`a crypto thread stopped (exit code ${code})`));
    });
    // A pool left open must not keep a finished process alive (see #flush).
    worker.unref();
    this.#onThreadStart?.(worker);
    return thread;
  }
}
