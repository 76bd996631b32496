import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore, parseStoreUrl } from '../../src/store/open.js';

describe('parseStoreUrl', () => {
  it('reads sqlite URLs and plain paths as SQLite files', () => {
    assert.deepEqual(parseStoreUrl('sqlite:/var/lib/certmaster/certmaster.db'), {
      kind: 'sqlite',
      path: '/var/lib/certmaster/certmaster.db',
    });
    assert.deepEqual(parseStoreUrl('sqlite:///var/lib/certmaster/certmaster.db'), {
      kind: 'sqlite',
      path: '/var/lib/certmaster/certmaster.db',
    });
    assert.deepEqual(parseStoreUrl('/srv/cm.db'), { kind: 'sqlite', path: '/srv/cm.db' });
    assert.deepEqual(parseStoreUrl('data/cm.db'), { kind: 'sqlite', path: resolve('data/cm.db') });
  });

  it('reads postgres and postgresql URLs as PostgreSQL', () => {
    for (const url of ['postgres://cm@db.example:5432/cm', 'postgresql://cm:secret@db.example/cm']) {
      assert.deepEqual(parseStoreUrl(url), { kind: 'postgres', url });
    }
  });

  it('refuses other schemes and empty locations without echoing the URL', () => {
    assert.throws(
      () => parseStoreUrl('mysql://root:hunter2@db/cm'),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /unsupported store URL scheme "mysql"/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      },
    );
    assert.throws(() => parseStoreUrl(''), /empty/);
    assert.throws(() => parseStoreUrl('sqlite:'), /needs a file path/);
    assert.throws(() => parseStoreUrl('sqlite://host/cm.db'), /needs a file path/);
  });

  it('refuses a bare path when told settings name their scheme', () => {
    for (const url of ['/srv/cm.db', 'mysql://db/cm', '']) {
      assert.throws(
        () => parseStoreUrl(url, undefined, { barePath: false }),
        /^Error: must start with sqlite: or postgres:\/\/ \(or postgresql:\/\/\)$/,
      );
    }
    assert.deepEqual(parseStoreUrl('sqlite:cm.db', '/srv', { barePath: false }), {
      kind: 'sqlite',
      path: '/srv/cm.db',
    });
  });
});

describe('openStore on SQLite', () => {
  let directory: string;
  before(() => {
    directory = mkdtempSync(join(tmpdir(), 'certmaster-open-'));
  });
  after(() => rmSync(directory, { recursive: true, force: true }));

  it('creates the database file readable by its owner only', async () => {
    const path = join(directory, 'certmaster.db');
    const store = await openStore(`sqlite:${path}`);
    try {
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(`${path}-wal`).mode & 0o777, 0o600);
    } finally {
      await store.close();
    }
  });

  it('fails clearly when the directory does not exist', async () => {
    await assert.rejects(openStore(`sqlite:${join(directory, 'missing', 'certmaster.db')}`), /ENOENT/);
  });
});
