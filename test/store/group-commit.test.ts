import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type GroupCommitHooks,
  GroupCommitQueue,
  StoreClosedError,
} from '../../src/store/engine/group-commit.js';

/** A transaction log: what a database would have seen, batch by batch. */
function recordingHooks(options: { failCommit?: boolean } = {}) {
  const batches: string[][] = [];
  let current: string[] | null = null;
  const queue = new GroupCommitQueue(
    {
      async runBatch(body) {
        current = [];
        await body();
        batches.push(current);
        current = null;
        if (options.failCommit === true) {
          throw new Error('disk I/O error');
        }
      },
      async runIsolated(operation) {
        try {
          return { status: 'fulfilled', value: await operation() };
        } catch (reason) {
          return { status: 'rejected', reason };
        }
      },
    },
    { maxBatchSize: 3 },
  );
  const write = (name: string) =>
    queue.submit(async () => {
      if (current === null) {
        throw new Error(`${name} ran outside a batch`);
      }
      current.push(name);
      return name;
    });
  return { queue, batches, write };
}

describe('GroupCommitQueue', () => {
  it('runs operations issued in one turn in one batch, bounded by maxBatchSize', async () => {
    const { batches, write } = recordingHooks();
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(write));
    assert.deepEqual(results, ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(batches, [
      ['a', 'b', 'c'],
      ['d', 'e'],
    ]);
  });

  it('settles no caller before its batch has committed', async () => {
    const { queue, batches } = recordingHooks();
    const seenAtSettlement: number[] = [];
    await Promise.all(
      [1, 2].map((n) => queue.submit(async () => n).then(() => seenAtSettlement.push(batches.length))),
    );
    assert.deepEqual(seenAtSettlement, [1, 1]);
  });

  it('rejects only the failing operation when the others commit', async () => {
    const { queue, batches, write } = recordingHooks();
    const results = await Promise.allSettled([
      write('a'),
      queue.submit(async () => {
        throw new Error('serial collision');
      }),
      write('c'),
    ]);
    assert.deepEqual(
      results.map((result) => result.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(batches, [['a', 'c']]);
  });

  it('rejects every operation of a batch whose commit fails', async () => {
    const { write } = recordingHooks({ failCommit: true });
    const results = await Promise.allSettled([write('a'), write('b')]);
    for (const result of results) {
      assert.ok(result.status === 'rejected' && /disk I\/O error/.test(String(result.reason)));
    }
  });

  it('drains queued operations on close and refuses new ones', async () => {
    const { queue, batches, write } = recordingHooks();
    const pending = ['a', 'b', 'c', 'd'].map(write);
    await queue.close();
    assert.deepEqual(batches, [['a', 'b', 'c'], ['d']]);
    assert.deepEqual(await Promise.all(pending), ['a', 'b', 'c', 'd']);
    await assert.rejects(write('e'), StoreClosedError);
  });

  it('refuses a batch size that is not a positive integer', () => {
    const hooks: GroupCommitHooks = {
      runBatch: (body) => body(),
      runIsolated: async (operation) => ({ status: 'fulfilled', value: await operation() }),
    };
    assert.throws(() => new GroupCommitQueue(hooks, { maxBatchSize: 0 }), RangeError);
  });
});
