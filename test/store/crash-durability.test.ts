import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { verifyAuditChain } from '../../src/audit/chain.js';
import { openStore } from '../../src/store/open.js';

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SUBMIT_LOOP = fileURLToPath(new URL('./fixtures/submit-loop.ts', import.meta.url));
const ACKS_BEFORE_KILL = 300;

/** Runs the submit loop until it has acknowledged `acks` ids, SIGKILLs it, and returns every id it acknowledged. */
function acknowledgedIdsUntilKilled(databasePath: string, acks: number): Promise<string[]> {
  return new Promise((resolvePromise, rejectPromise) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SUBMIT_LOOP, databasePath], {
      cwd: REPOSITORY_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ids: string[] = [];
    let partialLine = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const lines = (partialLine + chunk).split('\n');
      partialLine = lines.pop() ?? '';
      ids.push(...lines);
      if (ids.length >= acks && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', rejectPromise);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') {
        rejectPromise(new Error(`submit loop ended by itself (code ${code}): ${stderr}`));
        return;
      }
      resolvePromise(ids);
    });
  });
}

describe('SQLite store durability', () => {
  let directory: string;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'certmaster-crash-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('keeps every acknowledged submission, each with its audit records, when the process is SIGKILLed mid-stream', async () => {
    const databasePath = join(directory, 'certmaster.db');
    const acknowledged = await acknowledgedIdsUntilKilled(databasePath, ACKS_BEFORE_KILL);
    assert.ok(acknowledged.length >= ACKS_BEFORE_KILL);

    const store = await openStore(`sqlite:${databasePath}`);
    try {
      const missing: string[] = [];
      for (const id of acknowledged) {
        const request = await store.getRequest(id);
        if (
          request?.state !== 'issued' ||
          request.serial === null ||
          (await store.getCertificate(request.serial)) === null
        ) {
          missing.push(id);
        }
      }
      assert.deepEqual(missing, []);
      // No certificate without its records, acknowledged or not: they were one transaction.
      const certificates = await store.listCertificates({ status: 'all', limit: 10_000 });
      assert.ok(certificates.length >= acknowledged.length);
      const unrecorded: string[] = [];
      for (const { requestId } of certificates) {
        const phases = (await store.queryAudit({ requestId: requestId ?? '' })).map((r) => r.phase);
        if (phases.join() !== 'request,response') unrecorded.push(`${requestId}: ${phases.join()}`);
      }
      assert.deepEqual(unrecorded, []);
      const chain = await verifyAuditChain(store, { publicKeys: new Map() });
      assert.equal(chain.ok, true, JSON.stringify(chain));
    } finally {
      await store.close();
    }
  });
});
