import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { OpaqueTokens } from '../../src/auth/tokens/opaque-tokens.js';
import { initDataDir } from '../../src/instance/init.js';
import { openInstance } from '../../src/instance/open.js';
import { systemClock } from '../../src/types.js';
import { tempDir } from '../helpers/cli.js';
import { MovableClock } from '../helpers/clock.js';

const ROOT = resolve(import.meta.dirname, '..', '..');

/**
 * `certmaster expiring` in a process of its own, through commander, as src/cli/main.ts runs it
 * (registerExpiring, and a CliError as one line on stderr with its exit code).
 */
const DRIVER = `
import { Command } from 'commander';
const { registerExpiring } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/cli/expiring.js')).href)});
const { CliError } = await import(${JSON.stringify(pathToFileURL(join(ROOT, 'src/cli/output.js')).href)});
const program = new Command().name('certmaster').exitOverride();
registerExpiring(program);
try {
  await program.parseAsync(process.argv.slice(1), { from: 'user' });
} catch (e) {
  if (!(e instanceof CliError)) throw e;
  process.stderr.write('certmaster: ' + e.message + '\\n');
  process.exit(e.exitCode);
}
`;

function expiring(...args: string[]) {
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', DRIVER, 'expiring', ...args],
    { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
  );
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

async function newDataDir(path: string, admin: boolean): Promise<void> {
  await initDataDir({
    dataDir: path,
    keyType: 'ec-p256',
    caSubject: 'CN=cli expiry CA',
    caValidityDays: 365,
    serverValidityDays: 30,
    serverNames: [],
    clock: systemClock,
    ...(admin ? { admin: { name: 'admin', password: 'quarry-pelican-mosaic-52', digest: false } } : {}),
  });
}

describe('certmaster expiring', () => {
  const tmp = tempDir('expiring-cli');
  const dataDir = join(tmp.path, 'data');
  const emptyDir = join(tmp.path, 'quiet');
  let staleId = '';
  let soonId = '';

  before(async () => {
    await newDataDir(dataDir, true);
    await newDataDir(emptyDir, false);
    const instance = await openInstance(dataDir);
    try {
      // Made two hours ago with a one-hour lifetime: expired an hour ago.
      const past = new MovableClock(Date.now() - 2 * 3600_000);
      const stale = await new OpaqueTokens({ store: instance.store, clock: past }).create({
        kind: 'api',
        owner: 'admin',
        scopes: ['requests:read'],
        ttlSeconds: 3600,
        description: 'old backup job',
      });
      staleId = stale.record.id;
      const soon = await new OpaqueTokens({ store: instance.store, clock: systemClock }).create({
        kind: 'api',
        owner: 'admin',
        scopes: ['requests:read'],
        ttlSeconds: 5 * 3600,
        description: 'deploy',
      });
      soonId = soon.record.id;
    } finally {
      await instance.close();
    }
  });

  after(() => tmp.remove());

  it('--json lists items soonest first, the expired one first and marked so', () => {
    const run = expiring('--data', dataDir, '--json');
    assert.equal(run.code, 0, run.stderr);
    const items = JSON.parse(run.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      items.map((i) => [i.kind, i.id, i.expired]),
      [
        ['api_token', staleId, true],
        ['api_token', soonId, false],
        ['server_certificate', items[2]?.id, false],
      ],
    );
    assert.equal(items[0]?.name, 'admin: old backup job');
    assert.ok(Number(items[0]?.seconds_left) < 0);
    assert.match(String(items[1]?.expires_at), /^\d{4}-\d\d-\d\dT/);
  });

  it('says first, in the human listing, what has already expired', () => {
    const run = expiring('--data', dataDir);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.split('\n');
    assert.equal(lines[0], 'ALREADY EXPIRED: 1 (API token admin: old backup job)');
    assert.equal(lines[1], '2 expire within 30 days.');
    assert.match(lines[3] ?? '', /^KIND\s+ID\s+NAME\s+EXPIRES\s+WHEN$/);
    assert.match(
      lines[4] ?? '',
      /^API token\s+tok_\S+\s+admin: old backup job\s+\S+\s+expired (59|60) minutes ago$/,
    );
    assert.match(lines[6] ?? '', /^server certificate .* in (29|30) days$/);
  });

  it('--within widens the window to the CA', () => {
    const run = expiring('--data', dataDir, '--within', '400d', '--json');
    assert.equal(run.code, 0, run.stderr);
    const kinds = (JSON.parse(run.stdout) as Array<{ kind: string }>).map((i) => i.kind);
    assert.equal(kinds.at(-1), 'ca');
  });

  it('says when nothing expires', () => {
    const run = expiring('--data', emptyDir, '--within', '1d');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'Nothing expires within 1 day.\n');
  });

  it('refuses a window that is not a duration, in one line', () => {
    const run = expiring('--data', dataDir, '--within', 'soon');
    assert.equal(run.code, 1);
    assert.equal(run.stderr, 'certmaster: --within "soon" is not a duration from 1s to 3650d, such as 30d\n');
  });
});
