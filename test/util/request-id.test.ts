/**
 * Request ids (src/util/request-id.ts): each carries its time and the tag of its source address, which
 * `explain` compares with sourceTag(address); the tags of recent addresses are remembered, in a bounded
 * cache, without changing what they are.
 */
import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  mintRequestId,
  readRequestId,
  sourceTag,
  TIMED_REQUEST_ID_LENGTH,
} from '../../src/util/request-id.js';

const NOW = Date.UTC(2026, 11, 5, 6, 0, 0);

describe('request ids', () => {
  it('carry their time and the first three bytes of SHA-256 of the address', () => {
    const id = mintRequestId(NOW, '192.0.2.7');
    assert.equal(id.length, TIMED_REQUEST_ID_LENGTH);
    const facts = readRequestId(id, NOW);
    assert.ok(facts);
    assert.equal(facts.at.getTime(), NOW);
    assert.equal(facts.sourceTag, hash('sha256', '192.0.2.7', 'hex').slice(0, 6));
    assert.equal(facts.sourceTag, sourceTag('192.0.2.7'));
    assert.notEqual(sourceTag('192.0.2.8'), sourceTag('192.0.2.7'));
    assert.notEqual(mintRequestId(NOW, '192.0.2.7'), id, 'the random part differs');
  });

  it('keep the right tag for every address, past the cache of recent ones and back', () => {
    const addresses = Array.from({ length: 3000 }, (_, i) => `2001:db8::${i.toString(16)}`);
    for (const round of [0, 1]) {
      for (const address of addresses) {
        const facts = readRequestId(mintRequestId(NOW, address), NOW);
        assert.equal(
          facts?.sourceTag,
          hash('sha256', address, 'hex').slice(0, 6),
          `${address}, round ${round}`,
        );
      }
    }
  });

  it('tag an id without an address as the empty address', () => {
    assert.equal(readRequestId(mintRequestId(NOW, undefined), NOW)?.sourceTag, sourceTag(''));
  });
});
