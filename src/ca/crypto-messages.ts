/** What the event loop and a crypto thread say to each other (crypto-pool.ts, crypto-thread.ts). */
import type { KeyObject } from 'node:crypto';
import type { PossessionJob, PossessionOutcome } from './possession.js';

export type CryptoJob =
  | { op: 'possession'; job: PossessionJob }
  /** Signs with the key registered under `key`. */
  | { op: 'sign'; key: number; data: Uint8Array };

export type CryptoAnswer =
  | { op: 'possession'; outcome: PossessionOutcome }
  | { op: 'sign'; signature: Uint8Array }
  | { op: 'failed'; message: string };

export type ToCryptoThread =
  | { kind: 'key'; id: number; key: KeyObject; hash: string | null; dsaEncoding: boolean }
  /** One batch: the jobs queued during one turn of the event loop. */
  | { kind: 'batch'; batch: number; jobs: CryptoJob[] };

export interface FromCryptoThread {
  batch: number;
  answers: CryptoAnswer[];
}
