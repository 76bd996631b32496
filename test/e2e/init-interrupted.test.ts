/**
 * An init killed with SIGKILL at any point leaves the data directory as it was, so running init (or
 * serve) again just works: init builds in a staging sibling and renames it into place last.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('init-crash');
after(() => tmp.remove());

for (const point of ['after-store', 'after-ca', 'before-rename']) {
  for (const existingEmpty of [false, true]) {
    test(`SIGKILL ${point}${existingEmpty ? ' (into an existing empty directory)' : ''}, then init again`, () => {
      const parent = join(tmp.path, `${point}-${existingEmpty}`);
      mkdirSync(parent);
      const data = join(parent, 'data');
      if (existingEmpty) mkdirSync(data);
      const crashed = cli(['init', '--data', data], { env: { CERTMASTER_INIT_CRASH_AT: point } });
      assert.notEqual(crashed.code, 0, 'the injected crash point was not reached');
      assert.equal(existsSync(join(data, '.initialized')), false);
      assert.deepEqual(existingEmpty ? readdirSync(data) : [existsSync(data)], existingEmpty ? [] : [false]);

      const again = cli(['init', '--data', data]);
      assert.equal(again.code, 0, again.stderr);
      assert.ok(existsSync(join(data, '.initialized')));
      // The abandoned staging directory was the dead init's own, and is cleared.
      assert.deepEqual(readdirSync(parent), ['data']);
      const list = cli(['ca', 'list', '--data', data]);
      assert.equal(list.code, 0, list.stderr);
    });
  }
}
