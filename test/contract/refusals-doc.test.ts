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

test('codes nothing raises are gone; the one reserved for mutual TLS says so', () => {
  assert.ok(!('method_not_allowed' in REFUSALS));
  assert.ok(!('shutting_down' in REFUSALS));
  assert.match(REFUSALS.client_certificate_invalid.reservedFor, /mutual TLS/);
});
