/**
 * A crypto thread: checks CSRs' proofs of possession and signs with the CA keys it was given, a batch of
 * jobs per message. Holds no state but those keys.
 */
import { type KeyObject, sign } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { CryptoAnswer, CryptoJob, FromCryptoThread, ToCryptoThread } from './crypto-messages.js';
import { possessionOutcome } from './possession.js';

interface SigningKey {
  key: KeyObject;
  hash: string | null;
  dsaEncoding: boolean;
}

const keys = new Map<number, SigningKey>();

async function answer(job: CryptoJob): Promise<CryptoAnswer> {
  try {
    if (job.op === 'possession') return { op: 'possession', outcome: await possessionOutcome(job.job) };
    const signing = keys.get(job.key);
    if (!signing) return { op: 'failed', message: `no signing key ${job.key} was given to this thread` };
    const signature = sign(
      signing.hash,
      job.data,
      signing.dsaEncoding ? { key: signing.key, dsaEncoding: 'der' } : signing.key,
    );
    return { op: 'sign', signature };
  } catch (e) {
    return { op: 'failed', message: e instanceof Error ? e.message : String(e) };
  }
}

const port = parentPort;
if (port === null) throw new Error('crypto-thread.ts runs only as a worker thread');
port.on('message', (message: ToCryptoThread) => {
  if (message.kind === 'key') {
    keys.set(message.id, { key: message.key, hash: message.hash, dsaEncoding: message.dsaEncoding });
    return;
  }
  void Promise.all(message.jobs.map(answer)).then((answers) => {
    const reply: FromCryptoThread = { batch: message.batch, answers };
    port.postMessage(reply);
  });
});
