/**
 * The free-disk warning (audit.min_free_disk) through the real `certmaster` bin: the server's log, the
 * /metrics gauges and `doctor`. The threshold is set above what any test machine has free, so the
 * warning shows without filling a disk; the default threshold on this machine's disk says ok.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cli, startServer, tempDir } from '../helpers/cli.js';
import { call } from '../helpers/http.js';

const tmp = tempDir('free-disk');
const data = join(tmp.path, 'data');

before(() => {
  const init = cli(['init', '--data', data]);
  assert.equal(init.code, 0, init.stderr);
});

after(() => tmp.remove());

function doctorFreeDisk(): { status: string; message: string; fix: string | null } {
  const r = cli(['doctor', '--data', data, '--json']);
  const results = JSON.parse(r.stdout) as Array<{
    check: string;
    status: string;
    message: string;
    fix: string | null;
  }>;
  const found = results.find((x) => x.check === 'free-disk');
  assert.ok(found, r.stdout);
  return found;
}

test('the setting takes sizes and refuses anything else', () => {
  const bad = cli(['config', 'set', 'audit.min_free_disk', 'lots', '--data', data]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /must be a size such as 1GiB/);
  const good = cli(['config', 'set', 'audit.min_free_disk', '500MiB', '--data', data]);
  assert.equal(good.code, 0, good.stderr);
});

test('doctor says ok with the free space when above the threshold', () => {
  assert.equal(cli(['config', 'set', 'audit.min_free_disk', '1MiB', '--data', data]).code, 0);
  const result = doctorFreeDisk();
  assert.equal(result.status, 'ok', result.message);
  assert.match(result.message, /free \(audit\.min_free_disk 1\.0 MiB\)/);
});

test('below the threshold: a warning in the server log, the gauges in /metrics, and doctor warns', async () => {
  assert.equal(cli(['config', 'set', 'audit.min_free_disk', '1000TiB', '--data', data]).code, 0);
  const server = await startServer(data);
  try {
    const deadline = Date.now() + 5_000;
    while (!/low disk space/.test(server.output()) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(
      server.output(),
      /low disk space: .* free on the filesystem of .*, below audit\.min_free_disk \(1000\.0 TiB\)/,
    );
    const ca = readFileSync(join(data, 'ca', 'ca.pem'), 'utf8');
    const metrics = await call(`${server.url}/metrics`, { ca });
    assert.equal(metrics.status, 200, metrics.text);
    const free = Number(/^certmaster_data_dir_free_bytes (\S+)$/m.exec(metrics.text)?.[1]);
    assert.ok(free > 0, metrics.text);
    const min = Number(/^certmaster_data_dir_min_free_bytes (\S+)$/m.exec(metrics.text)?.[1]);
    assert.equal(min, 1000 * 1024 ** 4);
    assert.ok(free < min);
  } finally {
    await server.stop();
  }
  const result = doctorFreeDisk();
  assert.equal(result.status, 'warn');
  assert.match(result.message, /below audit\.min_free_disk \(1000\.0 TiB\)/);
  assert.match(result.fix ?? '', /audit prune/);
});
