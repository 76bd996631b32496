import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MicroBatcher } from '../../src/util/micro-batcher.js';

describe('MicroBatcher: one batch per turn of the event loop, one outcome per caller', () => {
  test('items submitted in one turn share a batch, at most maxBatch at a time, each told its own outcome', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number, number>({
      maxBatch: 3,
      run: async (items) => {
        batches.push(items);
        return items.map((n) =>
          n % 2 === 0
            ? { status: 'fulfilled', value: n * 10 }
            : { status: 'rejected', reason: new Error(`odd ${n}`) },
        );
      },
    });
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
    assert.deepEqual(batches, [
      [1, 2, 3],
      [4, 5],
    ]);
    assert.deepEqual(
      results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
      ['odd 1', 20, 'odd 3', 40, 'odd 5'],
    );
    assert.ok(batcher.idle);
  });

  test('a batch that throws rejects every item of it with the mapped failure, and the next batch still runs', async () => {
    let calls = 0;
    const batcher = new MicroBatcher<string, string>({
      maxBatch: 10,
      run: async (items) => {
        calls++;
        if (calls === 1) throw new Error('disk full');
        return items.map((value) => ({ status: 'fulfilled', value }));
      },
      failure: (error, items) => new Error(`${items.length} refused: ${(error as Error).message}`),
    });
    const first = await Promise.allSettled([batcher.submit('a'), batcher.submit('b')]);
    assert.deepEqual(
      first.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : r.value)),
      ['2 refused: disk full', '2 refused: disk full'],
    );
    assert.equal(await batcher.submit('c'), 'c');
  });

  test('whenIdle waits for every submitted item', async () => {
    const done: number[] = [];
    const batcher = new MicroBatcher<number, void>({
      maxBatch: 1,
      run: async ([n]) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        done.push(n as number);
        return [{ status: 'fulfilled', value: undefined }];
      },
    });
    for (const n of [1, 2, 3]) void batcher.submit(n);
    await batcher.whenIdle();
    assert.deepEqual(done, [1, 2, 3]);
    assert.throws(() => new MicroBatcher({ maxBatch: 0, run: async () => [] }), RangeError);
  });
});
