import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalIp, clientAddressUnit, ipBytes, ipFromBytes } from '../../src/util/ip.js';

describe('IP addresses: one reader for certificates, names and the throttle', () => {
  test('an IPv4-compatible address is not taken for an IPv4-mapped one (ipaddr.parse does that)', () => {
    assert.equal(canonicalIp('::192.0.2.1'), '::c000:201');
    assert.deepEqual([...ipBytes('::192.0.2.1')], [...new Array(12).fill(0), 192, 0, 2, 1]);
    assert.equal(clientAddressUnit('::192.0.2.1'), '0:0:0:0::/64');
  });

  test('RFC 5952 text, with the dotted form for IPv4-mapped addresses', () => {
    assert.equal(canonicalIp('2001:DB8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(canonicalIp('::FFFF:c000:0201'), '::ffff:192.0.2.1');
    assert.equal(ipFromBytes(ipBytes('fe80::1')), 'fe80::1');
  });

  test('refuses zones, shorthand IPv4 and names', () => {
    for (const bad of ['fe80::1%eth0', '10.1', 'example.com', '', '1.2.3.256']) {
      assert.equal(canonicalIp(bad), null, bad);
      assert.throws(() => ipBytes(bad));
    }
  });
});
