/** The first CRL exists as soon as the server answers: built at start, not on the first fetch or timer tick. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startTestServer } from '../helpers/instance.js';

test('a freshly started server has published its first CRL before anyone asked for it', async () => {
  const server = await startTestServer();
  try {
    const crl = await server.instance.store.latestCrl();
    assert.ok(crl, 'a CRL is in the store right after start');
    assert.equal(crl.crlNumber, 1n);
    assert.ok(crl.nextUpdate.getTime() > Date.now());
  } finally {
    await server.close();
  }
});
