/** The audit CLI anchors the chain outside the database: a tail cut or rewrite fails `verify --against`. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { cli, tempDir } from '../helpers/cli.js';

describe('certmaster audit checkpoint --export and verify --against', () => {
  const dir = tempDir('audit-anchor');
  const data = join(dir.path, 'data');
  const anchorFile = join(dir.path, 'anchor.json');

  before(() => {
    assert.equal(cli(['init', '--data', data]).code, 0);
    for (const name of ['alice', 'bob']) {
      const passwordFile = join(dir.path, `${name}.pw`);
      writeFileSync(passwordFile, 'correct horse battery staple\n', { mode: 0o600 });
      const added = cli([
        'user',
        'add',
        name,
        '--role',
        'operator',
        '--password-file',
        passwordFile,
        '--data',
        data,
      ]);
      assert.equal(added.code, 0, added.stderr);
    }
  });
  after(() => dir.remove());

  it('reports coverage, exports an anchor and verifies against it while the log only grows', () => {
    const exported = cli(['audit', 'checkpoint', '--export', '--data', data]);
    assert.equal(exported.code, 0, exported.stderr);
    const anchor = JSON.parse(exported.stdout) as { format: string; seq: number };
    assert.equal(anchor.format, 'certmaster-audit-anchor/v1');
    writeFileSync(anchorFile, exported.stdout);

    const passwordFile = join(dir.path, 'carol.pw');
    writeFileSync(passwordFile, 'another long passphrase\n', { mode: 0o600 });
    assert.equal(
      cli(['user', 'add', 'carol', '--role', 'auditor', '--password-file', passwordFile, '--data', data])
        .code,
      0,
    );
    const verified = cli(['audit', 'verify', '--against', anchorFile, '--json', '--data', data]);
    assert.equal(verified.code, 0, verified.stderr);
    const report = JSON.parse(verified.stdout) as {
      ok: boolean;
      records: number;
      uncovered: number;
      newest_checkpoint_seq: number;
      newest_checkpoint_at: string;
      anchor: { ok: boolean };
    };
    assert.equal(report.ok, true);
    assert.deepEqual(report.anchor, { ok: true });
    assert.equal(report.newest_checkpoint_seq, report.records);
    assert.equal(report.uncovered, 0, 'the CLI signs a checkpoint of its records as it closes');
    assert.ok(!Number.isNaN(Date.parse(report.newest_checkpoint_at)));
    const text = cli(['audit', 'verify', '--data', data]);
    assert.match(text.stdout, /newest checkpoint #\d+ signed \S+; 0 records after it no checkpoint covers/);

    // Cut the tail back before the anchored record, checkpoints and all.
    const db = new Database(join(data, 'certmaster.db'));
    try {
      db.prepare('DELETE FROM audit_checkpoints WHERE seq >= ?').run(anchor.seq);
      db.prepare('DELETE FROM audit_events WHERE seq >= ?').run(anchor.seq);
    } finally {
      db.close();
    }
    assert.equal(cli(['audit', 'verify', '--data', data]).code, 0, 'the cut is invisible from inside');
    const cut = cli(['audit', 'verify', '--against', anchorFile, '--data', data]);
    assert.notEqual(cut.code, 0);
    assert.match(cut.stderr, /does not extend the anchor .* records were removed from its end/);
  });

  it('refuses a file that is not an anchor with one clear line', () => {
    const bogus = join(dir.path, 'bogus.json');
    writeFileSync(bogus, '{"hello":1}');
    const result = cli(['audit', 'verify', '--against', bogus, '--data', data]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /not a certmaster audit anchor/);
  });
});
