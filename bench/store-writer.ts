/**
 * The main thread's cost of the store's writes, with the SQLite writer on the main thread and in its
 * worker thread: 32 callers, each submitting an autosigned request and then appending an audit record
 * (what one issuance writes), against a fresh database per run. Prints the rate and the main event
 * loop's busy time per submit+audit (performance.eventLoopUtilization), alternating the two writers.
 *
 *   node --import tsx bench/store-writer.ts [COUNT] [ROUNDS]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { appendAuditEvents } from '../src/audit/linked-records.js';
import { openStore } from '../src/store/open.js';
import { auditEvent } from '../test/audit/events.js';
import { autosigned, NOW } from '../test/store/records.js';

const COUNT = Number(process.argv[2] ?? 3000);
const ROUNDS = Number(process.argv[3] ?? 2);
const CALLERS = 32;

const directory = mkdtempSync(join(tmpdir(), 'certmaster-store-writer-'));
try {
  let run = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (const writerThread of [false, true]) {
      const store = await openStore(`sqlite:${join(directory, `run-${++run}.db`)}`, { writerThread });
      // The thread has started and the statements are prepared before the clock starts.
      await appendAuditEvents(store, [auditEvent()]);
      const items = Array.from({ length: COUNT }, () => autosigned());
      let next = 0;
      const loop0 = performance.eventLoopUtilization();
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: CALLERS }, async () => {
          for (let item = items[next++]; item !== undefined; item = items[next++]) {
            await store.submitRequest(item.request, item.certificate, {
              allowDuplicateCertificates: false,
              now: NOW,
            });
            await appendAuditEvents(store, [auditEvent({ requestId: item.request.id })]);
          }
        }),
      );
      const wallMs = performance.now() - t0;
      const loop = performance.eventLoopUtilization(loop0);
      await store.close();
      console.log(
        `${writerThread ? 'writer thread' : 'main thread  '}: ${COUNT} submit+audit in ${wallMs.toFixed(0)} ms, ` +
          `${((COUNT / wallMs) * 1000).toFixed(0)}/s; main event loop busy ${((loop.active / COUNT) * 1000).toFixed(0)} µs ` +
          `per submit+audit (utilisation ${loop.utilization.toFixed(2)})`,
      );
    }
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
