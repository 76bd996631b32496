/**
 * `serve --listen` reads its address by the same rules as server.listen (src/domain/listen-address.ts);
 * it used to have a looser reader of its own.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CliError } from '../../src/cli/output.js';
import { parseListen } from '../../src/cli/serve.js';
import { parseConfig } from '../../src/config/schema.js';

function refusal(text: string): string {
  try {
    parseListen(text);
  } catch (e) {
    assert.ok(e instanceof CliError, `expected a CliError, got ${String(e)}`);
    return e.message;
  }
  assert.fail(`--listen ${text} was accepted`);
}

describe('serve --listen', () => {
  test('takes what server.listen takes, and port 0 for a free port', () => {
    assert.deepEqual(parseListen('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(parseListen('[::1]:8443'), { host: '::1', port: 8443 });
    assert.deepEqual(parseListen('Ca.Example.com:443'), { host: 'ca.example.com', port: 443 });
    assert.deepEqual(parseListen('127.0.0.1:0'), { host: '127.0.0.1', port: 0 });
  });

  test('refuses what the old loose reader let through, saying why after the usual example', () => {
    assert.equal(
      refusal('[1.2.3.4]:8443'),
      '--listen "[1.2.3.4]:8443" is not HOST:PORT (e.g. 127.0.0.1:8443 or [::1]:8443): "1.2.3.4" is not an IPv6 address',
    );
    assert.match(refusal('[::1%eth0]:8443'), /is not an IPv6 address$/);
    assert.match(refusal('ca_server!:8443'), /^--listen "ca_server!:8443" is not HOST:PORT \(e\.g\. /);
    assert.match(refusal('::1:8443'), /expected HOST:PORT, with an IPv6 address in brackets/);
    assert.match(refusal('127.0.0.1:70000'), /port 70000 is outside 0\.\.65535$/);
  });

  test('server.listen itself still refuses port 0', () => {
    assert.throws(() => parseConfig({ server: { listen: '127.0.0.1:0' } }), /port 0 is outside 1\.\.65535/);
  });
});
