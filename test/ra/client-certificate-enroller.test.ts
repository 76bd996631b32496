/** The client-certificate enroller: exactly the names the presented certificate certifies. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientCertificateEnroller } from '../../src/ra/enrollers/client-certificate.js';
import { defaultEnrollers } from '../../src/ra/enrollers/index.js';
import type { Principal } from '../../src/types.js';

const host: Principal = {
  name: 'web1.example.com',
  anonymous: false,
  roles: ['host'],
  scopes: ['requests:submit'],
  method: 'client_certificate',
  namePatterns: ['web1.example.com', '*.web1.example.com'],
  certificate: { serial: '0a1b', notAfter: new Date('2030-01-01T00:00:00Z') },
};

describe('ClientCertificateEnroller', () => {
  const enroller = new ClientCertificateEnroller();

  test('signs the names the certificate holds, or some of them', async () => {
    const all = await enroller.authorizeSign(host, ['web1.example.com', '*.web1.example.com']);
    assert.deepEqual(all, { kind: 'sign', decidedBy: 'identity:web1.example.com', via: 'identity' });
    assert.equal((await enroller.authorizeSign(host, ['web1.example.com'])).kind, 'sign');
  });

  test('refuses any other name, even one its wildcard name would match', async () => {
    const other = await enroller.authorizeSign(host, ['web1.example.com', 'a.web1.example.com']);
    assert.equal(other.kind, 'refuse');
    assert.ok(other.kind === 'refuse' && other.reason === 'name_not_allowed');
    assert.match(other.kind === 'refuse' ? other.detail : '', /also asks for a\.web1\.example\.com/);
  });

  test('is the one the default registry picks for a client-certificate principal', () => {
    const registry = defaultEnrollers({
      enrollmentUses: { consumeEnrollmentUse: async () => true } as never,
      clock: { now: () => new Date() },
    });
    assert.equal(registry.forPrincipal(host).kind, 'client_certificate');
  });
});
