/**
 * An enroller's refusal lists the names it refused in its typed cause, but only the first
 * CAUSE_NAMES: the audit record already keeps up to 100 asked names, and its details are bounded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { patternDecision } from '../../src/ra/enrollers/patterns.js';
import { CAUSE_NAMES } from '../../src/ra/failure.js';
import type { Principal } from '../../src/types.js';

test('a refusal of 100 names lists the first CAUSE_NAMES of those outside the patterns', () => {
  const principal: Principal = {
    name: 'tok_1',
    anonymous: false,
    roles: [],
    scopes: ['requests:submit'],
    method: 'enrollment_token',
    namePatterns: ['*.ok.example'],
  };
  const names = [
    'a.ok.example',
    ...Array.from({ length: 99 }, (_, i) => `${'x'.repeat(60)}-${i}.elsewhere.example`),
  ];
  const decision = patternDecision(principal, names);
  assert.equal(decision.kind, 'refuse');
  if (decision.kind !== 'refuse') return;
  assert.equal(decision.facts.code, 'names_not_covered');
  if (decision.facts.code !== 'names_not_covered') return;
  assert.equal(decision.facts.outside.length, CAUSE_NAMES);
  assert.equal(decision.facts.outside[0], names[1]);
  assert.deepEqual(decision.facts.allowed, ['*.ok.example']);
});
