/**
 * The key policy, through the real server under `ra.autosign all`: odd RSA exponents, explicit EC
 * curve parameters, P-521 and Ed448 are refused with key_too_weak; the accepted kinds are signed.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PolicyFailure } from '../../src/ra/failure.js';
import { checkKeyPolicy } from '../../src/ra/key-policy.js';
import { tempDir } from '../helpers/cli.js';
import { postCsr } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/instance.js';

const tmp = tempDir('keypolicy');
let server: TestServer;

before(async () => {
  server = await startTestServer({ 'ra.autosign': 'all' });
});
after(async () => {
  await server.close();
  tmp.remove();
});

/** A CSR for `name` over a key openssl makes with `genArgs` (written to a file named after the case). */
function csrWith(name: string, keyCommand: string[]): string {
  const keyPath = join(tmp.path, `${name}.key`);
  const csrPath = join(tmp.path, `${name}.csr`);
  execFileSync('openssl', [...keyCommand, '-out', keyPath], { stdio: 'pipe' });
  execFileSync(
    'openssl',
    ['req', '-new', '-key', keyPath, '-subj', `/CN=${name}.example.com`, '-out', csrPath],
    {
      stdio: 'pipe',
    },
  );
  return readFileSync(csrPath, 'utf8');
}

const rsa = (bits: number, exponent: number): string[] => [
  'genpkey',
  '-algorithm',
  'RSA',
  '-pkeyopt',
  `rsa_keygen_bits:${bits}`,
  '-pkeyopt',
  `rsa_keygen_pubexp:${exponent}`,
];

describe('keys refused by the server', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['rsa-e3', rsa(2048, 3), /exponent 3\b/],
    ['rsa-e17', rsa(2048, 17), /exponent 17\b/],
    [
      'ec-explicit',
      ['ecparam', '-name', 'prime256v1', '-param_enc', 'explicit', '-genkey', '-noout'],
      /curve parameters/,
    ],
    ['ec-p521', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521'], /P-521/],
    ['ed448', ['genpkey', '-algorithm', 'ED448'], /Ed448/],
  ];
  for (const [name, keyCommand, detail] of cases) {
    test(name, async () => {
      const r = await postCsr(server.url, server.caPem, csrWith(name, keyCommand));
      assert.equal(r.status, 400, r.text);
      assert.equal(r.json.reason, 'key_too_weak');
      assert.match(String(r.json.detail), detail);
    });
  }
});

describe('keys accepted by the server', () => {
  const cases: Array<[string, string[]]> = [
    ['rsa-2048', rsa(2048, 65537)],
    ['ec-p256', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']],
    ['ec-p384', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384']],
    ['ed25519', ['genpkey', '-algorithm', 'ED25519']],
  ];
  for (const [name, keyCommand] of cases) {
    test(name, async () => {
      const r = await postCsr(server.url, server.caPem, csrWith(name, keyCommand));
      assert.ok(r.status === 200 || r.status === 201, r.text);
      assert.equal(r.json.state, 'issued', r.text);
    });
  }
});

describe('RSA modulus bounds (too slow to generate a 16384-bit key per test run)', () => {
  test('more than 8192 bits is refused, 8192 is accepted', () => {
    assert.throws(
      () => checkKeyPolicy({ kind: 'rsa', bits: 16384, exponent: 65537n }, 2048),
      (e: unknown) =>
        e instanceof PolicyFailure && e.reason === 'key_too_weak' && /at most 8192/.test(e.message),
    );
    assert.doesNotThrow(() => checkKeyPolicy({ kind: 'rsa', bits: 8192, exponent: 65537n }, 2048));
  });
  test('a huge public exponent is named by its size', () => {
    assert.throws(
      () => checkKeyPolicy({ kind: 'rsa', bits: 2048, exponent: (1n << 3071n) + 1n }, 2048),
      /exponent of 3072 bits/,
    );
  });
});
