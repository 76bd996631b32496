import 'reflect-metadata';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  createHash,
  generateKeyPairSync,
  KeyObject,
  X509Certificate as NodeX509,
  webcrypto,
} from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { SocketAddress } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import fc from 'fast-check';
import { parseCsr } from '../../src/ca/csr.js';
import { children, readBitString, readTlv, readWhole, TAG } from '../../src/ca/der.js';
import { CertificateIssuer, ipAddressBytes, type LeafSpec, randomSerial } from '../../src/ca/issuer.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const CA_KINDS = {
  'ec-p256': { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' },
  'ec-p384': { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' },
  ed25519: { name: 'Ed25519' },
  'rsa-2048': {
    name: 'RSASSA-PKCS1-v1_5',
    modulusLength: 2048,
    publicExponent: new Uint8Array([1, 0, 1]),
    hash: 'SHA-256',
  },
} as const;
type CaKind = keyof typeof CA_KINDS;

interface TestCa {
  certificate: x509.X509Certificate;
  der: Buffer;
  privateKey: KeyObject;
}

const DAY = 86_400_000;

async function makeCa(kind: CaKind, withSubjectKeyIdentifier = true): Promise<TestCa> {
  const algorithm = CA_KINDS[kind];
  const keys = (await webcrypto.subtle.generateKey(algorithm, false, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(true, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  if (withSubjectKeyIdentifier)
    extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a1b2c',
    name: `CN=certmaster test CA ${kind}, O=Example`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date('2060-01-01T00:00:00Z'),
    keys,
    signingAlgorithm: algorithm,
    extensions,
  });
  return { certificate, der: Buffer.from(certificate.rawData), privateKey: KeyObject.from(keys.privateKey) };
}

function subjectKey(kind: 'ec' | 'rsa'): Buffer {
  const { publicKey } =
    kind === 'ec'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return publicKey.export({ format: 'der', type: 'spki' });
}

/** The SHA-1 of the subjectPublicKey bits: RFC 5280 §4.2.1.2 method 1. */
function keyIdentifier(spki: Buffer): string {
  const [, bits] = children(spki, readWhole(spki, TAG.sequence, 'spki'), 2);
  return createHash('sha1').update(readBitString(spki, bits!)).digest('hex');
}

function leafSpec(spki: Buffer, overrides: Partial<LeafSpec> = {}): LeafSpec {
  const now = Date.now();
  return {
    serial: randomSerial(),
    commonName: 'host.example.com',
    dnsNames: ['host.example.com', 'alias.example.com'],
    ipAddresses: ['10.0.0.1', '2001:db8::1'],
    spki,
    notBefore: new Date(Math.floor(now / 1000) * 1000 - 60_000),
    notAfter: new Date(Math.floor(now / 1000) * 1000 + 30 * DAY),
    profile: { serverAuth: true, clientAuth: true },
    ...overrides,
  };
}

describe('CertificateIssuer', () => {
  let dir = '';
  const cas = new Map<CaKind, TestCa>();
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'certmaster-issuer-'));
    for (const kind of Object.keys(CA_KINDS) as CaKind[]) cas.set(kind, await makeCa(kind));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const openssl = (...args: string[]): string =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' }).toString();

  function opensslAccepts(ca: TestCa, leaf: Buffer, name: string): string {
    writeFileSync(join(dir, `${name}-ca.pem`), ca.certificate.toString('pem'));
    writeFileSync(join(dir, `${name}.pem`), new x509.X509Certificate(leaf).toString('pem'));
    // execFileSync throws on a non-zero exit, so reaching the next line means `openssl verify` said yes.
    assert.match(openssl('verify', '-CAfile', `${name}-ca.pem`, `${name}.pem`), /: OK/);
    return openssl('x509', '-in', `${name}.pem`, '-noout', '-text');
  }

  for (const caKind of Object.keys(CA_KINDS) as CaKind[]) {
    for (const leafKind of ['ec', 'rsa'] as const) {
      it(`issues a ${leafKind} leaf under a ${caKind} CA that openssl and @peculiar/x509 accept`, async () => {
        const ca = cas.get(caKind)!;
        const spki = subjectKey(leafKind);
        const spec = leafSpec(spki);
        const der = new CertificateIssuer(ca.der, ca.privateKey).issue(spec);

        const text = opensslAccepts(ca, der, `${caKind}-${leafKind}`);
        assert.match(
          text,
          /DNS:host\.example\.com, DNS:alias\.example\.com, IP Address:10\.0\.0\.1, IP Address:2001:DB8:0:0:0:0:0:1/,
        );
        assert.match(text, /TLS Web Server Authentication, TLS Web Client Authentication/);
        assert.match(text, /X509v3 Basic Constraints: critical\s+CA:FALSE/);
        assert.match(
          text,
          leafKind === 'rsa'
            ? /X509v3 Key Usage: critical\s+Digital Signature, Key Encipherment\n/
            : /X509v3 Key Usage: critical\s+Digital Signature\n/,
        );

        const cert = new x509.X509Certificate(der);
        assert.equal(cert.serialNumber.toLowerCase(), spec.serial.toString('hex'));
        assert.equal(cert.subject, 'CN=host.example.com');
        assert.equal(cert.issuer, ca.certificate.subject);
        assert.deepEqual(
          Buffer.from(cert.issuerName.toArrayBuffer()),
          Buffer.from(ca.certificate.subjectName.toArrayBuffer()),
        );
        assert.equal(cert.notBefore.getTime(), spec.notBefore.getTime());
        assert.equal(cert.notAfter.getTime(), spec.notAfter.getTime());
        assert.deepEqual(Buffer.from(cert.publicKey.rawData), spki);
        const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
        assert.deepEqual(
          san?.names.items.map((n) => [n.type, n.value]),
          [
            ['dns', 'host.example.com'],
            ['dns', 'alias.example.com'],
            ['ip', '10.0.0.1'],
            ['ip', '2001:db8::1'],
          ],
        );
        assert.equal(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId, keyIdentifier(spki));
        const caSki = ca.certificate.getExtension(x509.SubjectKeyIdentifierExtension)!.keyId;
        assert.equal(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, caSki);
        assert.deepEqual(
          [...cert.extensions].map((e) => [e.type, e.critical]),
          [
            ['2.5.29.19', true],
            ['2.5.29.15', true],
            ['2.5.29.37', false],
            ['2.5.29.14', false],
            ['2.5.29.35', false],
            ['2.5.29.17', false],
          ],
        );
        assert.equal(await cert.verify({ publicKey: ca.certificate.publicKey, signatureOnly: true }), true);
        assert.equal(await cert.verify({ publicKey: ca.certificate.publicKey }), true);
        const node = new NodeX509(der);
        assert.equal(node.checkIssued(new NodeX509(ca.der)), true);
        assert.equal(node.verify(new NodeX509(ca.der).publicKey), true);
      });
    }
  }

  it('certifies the key of an openssl CSR read by parseCsr, end to end', () => {
    const key = join(dir, 'csr.key');
    openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key);
    const csrDer = execFileSync('openssl', [
      'req',
      '-new',
      '-key',
      key,
      '-subj',
      '/CN=e2e.example.com',
      '-addext',
      'subjectAltName=DNS:e2e.example.com,IP:192.0.2.7',
      '-outform',
      'DER',
    ]);
    const csr = parseCsr(csrDer);
    const ca = cas.get('ec-p256')!;
    const der = new CertificateIssuer(ca.der, ca.privateKey).issue(
      leafSpec(csr.spki, {
        commonName: csr.commonName!,
        dnsNames: csr.dnsNames,
        ipAddresses: csr.ipAddresses,
      }),
    );
    writeFileSync(join(dir, 'e2e.key.pub'), csr.publicKey.export({ format: 'pem', type: 'spki' }));
    const text = opensslAccepts(ca, der, 'e2e');
    assert.match(text, /Subject: CN ?= ?e2e\.example\.com/);
    assert.match(text, /DNS:e2e\.example\.com, IP Address:192\.0\.2\.7/);
    assert.equal(new NodeX509(der).publicKey.equals(csr.publicKey), true);
  });

  it('derives the authority key identifier from the CA key when the CA has no SKI extension', async () => {
    const ca = await makeCa('ec-p256', false);
    const der = new CertificateIssuer(ca.der, ca.privateKey).issue(leafSpec(subjectKey('ec')));
    const cert = new x509.X509Certificate(der);
    const caSpki = Buffer.from(ca.certificate.publicKey.rawData);
    assert.equal(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, keyIdentifier(caSpki));
    opensslAccepts(ca, der, 'no-ski');
  });

  it('honours the profile and omits the SAN extension when there are no names', () => {
    const ca = cas.get('ec-p256')!;
    const issuer = new CertificateIssuer(ca.der, ca.privateKey);
    const serverOnly = issuer.issue(
      leafSpec(subjectKey('ec'), {
        dnsNames: [],
        ipAddresses: [],
        profile: { serverAuth: true, clientAuth: false },
      }),
    );
    const text = opensslAccepts(ca, serverOnly, 'server-only');
    assert.match(text, /X509v3 Extended Key Usage: \n\s+TLS Web Server Authentication\n/);
    assert.doesNotMatch(text, /Subject Alternative Name/);
    const clientOnly = issuer.issue(
      leafSpec(subjectKey('ec'), { profile: { serverAuth: false, clientAuth: true } }),
    );
    assert.match(
      opensslAccepts(ca, clientOnly, 'client-only'),
      /X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/,
    );
  });

  it('encodes dates from 2050 on as GeneralizedTime and earlier ones as UTCTime', () => {
    const ca = cas.get('ed25519')!;
    const issuer = new CertificateIssuer(ca.der, ca.privateKey);
    const notBefore = new Date('2049-12-31T23:59:59Z');
    const notAfter = new Date('2050-01-01T00:00:00Z');
    const der = issuer.issue(leafSpec(subjectKey('ec'), { notBefore, notAfter }));
    const validity = AsnConvert.parse(der, Certificate).tbsCertificate.validity;
    assert.equal(validity.notBefore.utcTime?.getTime(), notBefore.getTime());
    assert.equal(validity.notBefore.generalTime, undefined);
    assert.equal(validity.notAfter.generalTime?.getTime(), notAfter.getTime());
    assert.equal(validity.notAfter.utcTime, undefined);
    const cert = new x509.X509Certificate(der);
    assert.equal(cert.notAfter.getTime(), notAfter.getTime());
    const text = openssl('x509', '-inform', 'DER', '-noout', '-dates', '-in', writeDer('dates.der', der));
    assert.match(text, /notBefore=Dec 31 23:59:59 2049 GMT\nnotAfter=Jan {2}1 00:00:00 2050 GMT/);
  });

  it('encodes the serial as given, minimal and positive', () => {
    const ca = cas.get('ec-p384')!;
    const issuer = new CertificateIssuer(ca.der, ca.privateKey);
    for (const [serial, expected] of [
      ['00000001', '01'],
      ['ff', '00ff'],
      ['7f'.padEnd(40, 'e'), '7f'.padEnd(40, 'e')],
    ] as const) {
      const der = issuer.issue(leafSpec(subjectKey('ec'), { serial: Buffer.from(serial, 'hex') }));
      const encoded = AsnConvert.parse(der, Certificate).tbsCertificate.serialNumber;
      assert.equal(Buffer.from(encoded).toString('hex'), expected);
    }
  });

  it('refuses specs it cannot encode with a plain Error', () => {
    const ca = cas.get('ec-p256')!;
    const issuer = new CertificateIssuer(ca.der, ca.privateKey);
    const spki = subjectKey('ec');
    for (const overrides of [
      { ipAddresses: ['10.0.0.256'] },
      { ipAddresses: ['fe80::1%eth0'] },
      { ipAddresses: ['host.example.com'] },
      { ipAddresses: ['1::2:3:4:5:6:7:8'] },
      { serial: Buffer.alloc(4) },
      { serial: Buffer.alloc(21, 0x7f) },
      { serial: Buffer.alloc(20, 0x80) },
      { commonName: '' },
      { commonName: 'x'.repeat(65) },
      { dnsNames: ['héllo.example.com'] },
      { dnsNames: [''] },
      { notAfter: new Date(Date.now() - DAY) },
      { profile: { serverAuth: false, clientAuth: false } },
      { spki: Buffer.concat([spki, Buffer.from([0])]) },
    ] satisfies Partial<LeafSpec>[]) {
      assert.throws(() => issuer.issue(leafSpec(spki, overrides)), Error, JSON.stringify(overrides));
    }
  });

  it('refuses a CA key that does not match the CA certificate, or that it cannot sign with', () => {
    const ca = cas.get('ec-p256')!;
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    assert.throws(() => new CertificateIssuer(ca.der, other), /does not match/);
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    assert.throws(() => new CertificateIssuer(ca.der, k1), /curve secp256k1/);
    assert.throws(() => new CertificateIssuer(ca.der, new NodeX509(ca.der).publicKey), /private key/);
  });

  function writeDer(name: string, der: Buffer): string {
    writeFileSync(join(dir, name), der);
    return name;
  }
});

describe('randomSerial', () => {
  it('draws positive serials of at most 20 octets with 16 random bytes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const serial = randomSerial();
      assert.equal(serial.length, 16);
      assert.ok(serial[0]! >= 0x01 && serial[0]! <= 0x7f);
      seen.add(serial.toString('hex'));
    }
    assert.equal(seen.size, 5000);
  });

  it('encodes as a positive INTEGER with no leading zero octet', async () => {
    const ca = await makeCa('ec-p256');
    const issuer = new CertificateIssuer(ca.der, ca.privateKey);
    const spki = subjectKey('ec');
    for (let i = 0; i < 50; i++) {
      const serial = randomSerial();
      const der = issuer.issue(leafSpec(spki, { serial }));
      const tbs = readTlv(der, readTlv(der, 0).contentStart);
      const [, serialTlv] = children(der, tbs, 10);
      assert.deepEqual(der.subarray(serialTlv!.contentStart, serialTlv!.end), serial);
    }
  });
});

describe('ipAddressBytes', () => {
  it('reads every textual form node accepts to the same 16 octets node would', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        fc.pre(!text.includes('%'));
        const bytes = ipAddressBytes(text);
        assert.equal(bytes.length, 16);
        const full = Array.from({ length: 8 }, (_, i) => bytes.readUInt16BE(2 * i).toString(16)).join(':');
        const viaNode = (address: string) => new SocketAddress({ address, family: 'ipv6' }).address;
        assert.equal(viaNode(full), viaNode(text));
      }),
      { numRuns: 2000 },
    );
    assert.deepEqual(ipAddressBytes('192.0.2.1'), Buffer.from([192, 0, 2, 1]));
  });
});
