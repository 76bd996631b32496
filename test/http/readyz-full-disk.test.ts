/**
 * /readyz on a full disk, for real: the data directory lives on a small tmpfs that the test fills.
 * Reading the audit table still works on a full disk, so a readiness check that only reads answers 200
 * while every request is refused 503 audit_unavailable; readiness must follow the outcome of real
 * writes, and come back (through a real probe write) once space is free again.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { call } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'certmaster-tinydisk-'));
let srv: TestServer;
const filler = join(mountPoint, 'filler');

before(async () => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', mountPoint]);
  srv = await startTestServer({}, { under: mountPoint });
});

after(async () => {
  rmSync(filler, { force: true });
  await srv.close();
  execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

function fillDisk(): void {
  // One big write, then small ones until ENOSPC: the filesystem is full to the last block.
  const chunk = Buffer.alloc(64 * 1024);
  const parts: Buffer[] = [];
  for (let i = 0; i < 8 * 16; i++) parts.push(chunk);
  try {
    writeFileSync(filler, Buffer.concat(parts));
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC');
  }
}

test('readyz answers 503 while the audit log cannot be written on a full disk, and 200 again after', async () => {
  const ready = await call(`${srv.url}/readyz`, { ca: srv.caPem });
  assert.equal(ready.status, 200, ready.text);

  fillDisk();
  // Refusals are audited; once the WAL has no room left, they fail closed.
  let refused503 = 0;
  for (let i = 0; i < 3000 && refused503 === 0; i++) {
    const reply = await call(`${srv.url}/v1/requests`, { ca: srv.caPem });
    if (reply.status === 503) refused503++;
    else assert.equal(reply.status, 401, reply.text);
  }
  assert.ok(refused503 > 0, 'the full disk never failed an audit write');

  const notReady = await call(`${srv.url}/readyz`, { ca: srv.caPem });
  assert.equal(notReady.status, 503, notReady.text);
  assert.match(String((notReady.json.checks as Record<string, string>).audit), /not writable/);

  rmSync(filler);
  // The probe runs at most every 5 s after a failure.
  await sleep(5_200);
  const back = await call(`${srv.url}/readyz`, { ca: srv.caPem });
  assert.equal(back.status, 200, back.text);
  const verification = await srv.instance.audit.verify();
  assert.equal(verification.ok, true);
});
