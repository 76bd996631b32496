/** docs/refusals.md is the refusal table, rendered: it may not drift from src/contract/refusals.ts. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { REASONS, REFUSALS } from '../../src/contract/refusals.js';
import { renderRefusalsDoc } from '../../src/contract/refusals-doc.js';

test('docs/refusals.md matches the table (regenerate with `npm run docs:refusals`)', () => {
  const onDisk = readFileSync(new URL('../../docs/refusals.md', import.meta.url), 'utf8');
  assert.equal(onDisk, renderRefusalsDoc(), 'docs/refusals.md is stale: run `npm run docs:refusals`');
});

test('every reason has a row, a status of 400 or more, and a remedy', () => {
  const doc = renderRefusalsDoc();
  for (const reason of REASONS) {
    const entry = REFUSALS[reason];
    assert.ok(doc.includes(`| \`${reason}\` | ${entry.status}`), reason);
    assert.ok(entry.status >= 400 && entry.status < 600, reason);
    assert.ok(entry.remedy.length > 10, reason);
  }
});

test('codes nothing raises are gone, and no code is marked as not raised yet', () => {
  assert.ok(!('method_not_allowed' in REFUSALS));
  assert.ok(!('shutting_down' in REFUSALS));
  // client_certificate_invalid was reserved for mutual TLS until that landed; a stale marker told
  // readers of docs/refusals.md that a refusal they had just been given could not happen.
  const reserved = REASONS.filter((reason) => 'reservedFor' in REFUSALS[reason]);
  assert.deepEqual(reserved, []);
});
