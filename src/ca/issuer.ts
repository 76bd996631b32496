/**
 * The issuance fast path: X.509 v3 leaf certificates (RFC 5280) built from parts encoded once per CA,
 * signed with node:crypto. Everything the CA contributes (issuer Name, signature algorithm, authority key
 * identifier, constant extensions) is encoded in the constructor; issue() only encodes what varies.
 */
import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';
import { ipBytes } from '../util/ip.js';
import { timeOrderedBytes } from '../util/time-ordered-id.js';
import {
  bitString,
  boolean,
  children,
  contents,
  encoded,
  expectTag,
  explicit,
  ia5Bytes,
  implicit,
  integer,
  nullValue,
  octetString,
  oid,
  readBitString,
  readOid,
  readWhole,
  sequence,
  set,
  smallInteger,
  TAG,
  type Tlv,
  time,
  utf8String,
} from './der.js';
import { OID } from './oids.js';

export type SigningKeyKind = 'ec-p256' | 'ec-p384' | 'ed25519' | 'rsa';

export interface LeafProfile {
  serverAuth: boolean;
  clientAuth: boolean;
  /** A delegated OCSP responder (RFC 6960 §4.2.2.2): id-kp-OCSPSigning and id-pkix-ocsp-nocheck, alone. */
  ocspSigning?: boolean;
}

export interface LeafSpec {
  /** Unsigned big-endian; positive and at most 20 octets once encoded (RFC 5280 §4.1.2.2). */
  serial: Buffer;
  /** The subject is exactly CN=<commonName> as a UTF8String. */
  commonName: string;
  dnsNames: string[];
  /** Textual IPv4 or IPv6 addresses. */
  ipAddresses: string[];
  /** SubjectPublicKeyInfo, DER, copied verbatim. */
  spki: Buffer;
  notBefore: Date;
  notAfter: Date;
  profile: LeafProfile;
  /** Further extensions, DER-encoded Extension structures (CRL distribution points, AIA). */
  extraExtensions?: readonly Buffer[];
}

const MAX_SERIAL_OCTETS = 20;
/** ub-common-name (RFC 5280 Appendix A.1). */
const MAX_COMMON_NAME = 64;

const extension = (id: Buffer, critical: boolean, value: Buffer): Buffer =>
  sequence(id, ...(critical ? [boolean(true)] : []), octetString(value));

// Constant for every CA, so encoded once per process.
const VERSION_3 = explicit(0, smallInteger(2));
const COMMON_NAME = oid(OID.commonName);
const RSA_ENCRYPTION = oid(OID.rsaEncryption);
const SUBJECT_KEY_IDENTIFIER = oid(OID.subjectKeyIdentifier);
const SUBJECT_ALT_NAME = oid(OID.subjectAltName);
const BASIC_CONSTRAINTS = extension(oid(OID.basicConstraints), true, sequence());
// X.690 §11.2.2 drops trailing zero bits of a named bit list: digitalSignature(0) alone is 07 80,
// with keyEncipherment(2) it is 05 a0. RSA keys may also encipher (RFC 5246 RSA key exchange).
const KEY_USAGE = extension(oid(OID.keyUsage), true, bitString(Buffer.from([0x80]), 7));
const KEY_USAGE_RSA = extension(oid(OID.keyUsage), true, bitString(Buffer.from([0xa0]), 5));
const EXT_KEY_USAGE = {
  server: extension(oid(OID.extKeyUsage), false, sequence(oid(OID.serverAuth))),
  client: extension(oid(OID.extKeyUsage), false, sequence(oid(OID.clientAuth))),
  both: extension(oid(OID.extKeyUsage), false, sequence(oid(OID.serverAuth), oid(OID.clientAuth))),
  ocsp: extension(oid(OID.extKeyUsage), false, sequence(oid(OID.ocspSigning))),
};
// RFC 6960 §4.2.2.2.1: a client need not check the revocation of the responder's certificate (the
// responder could not answer for itself); its value is NULL.
const OCSP_NOCHECK = extension(oid(OID.ocspNocheck), false, nullValue());

interface SigningScheme {
  kind: SigningKeyKind;
  hash: string | null;
  algorithmIdentifier: Buffer;
}

function signingSchemeFor(key: KeyObject): SigningScheme {
  if (key.type !== 'private') throw new Error('the CA key must be a private key');
  const type = key.asymmetricKeyType;
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    // RFC 5758 §3.2: ECDSA AlgorithmIdentifiers have no parameters.
    if (curve === 'prime256v1')
      return { kind: 'ec-p256', hash: 'sha256', algorithmIdentifier: sequence(oid(OID.ecdsaWithSha256)) };
    if (curve === 'secp384r1')
      return { kind: 'ec-p384', hash: 'sha384', algorithmIdentifier: sequence(oid(OID.ecdsaWithSha384)) };
    throw new Error(`the CA key is on curve ${curve}; certmaster signs with P-256 or P-384`);
  }
  // RFC 8410 §3: the Ed25519 parameters are absent.
  if (type === 'ed25519')
    return { kind: 'ed25519', hash: null, algorithmIdentifier: sequence(oid(OID.ed25519)) };
  // RFC 4055 §5: the PKCS#1 v1.5 parameters are NULL.
  if (type === 'rsa') {
    return {
      kind: 'rsa',
      hash: 'sha256',
      algorithmIdentifier: sequence(oid(OID.sha256WithRSAEncryption), nullValue()),
    };
  }
  throw new Error(`the CA key is of type ${type}; certmaster signs with EC P-256/P-384, Ed25519 or RSA`);
}

interface SubjectKey {
  /** The AlgorithmIdentifier's OID, DER-encoded. */
  algorithm: Buffer;
  /** The subjectPublicKey BIT STRING contents: what key identifiers hash (RFC 5280 §4.2.1.2). */
  bits: Buffer;
}

function readSubjectKey(der: Buffer, spki: Tlv): SubjectKey {
  const parts = children(der, expectTag(spki, TAG.sequence, 'SubjectPublicKeyInfo'), 3);
  const [algorithm, bits] = parts;
  if (parts.length !== 2 || !algorithm || !bits)
    throw new Error('SubjectPublicKeyInfo must have two elements');
  const [algorithmId] = children(der, expectTag(algorithm, TAG.sequence, 'AlgorithmIdentifier'), 2);
  if (!algorithmId) throw new Error('AlgorithmIdentifier is empty');
  return {
    algorithm: encoded(der, expectTag(algorithmId, TAG.oid, 'algorithm')),
    bits: readBitString(der, bits),
  };
}

interface CaFacts {
  subject: Buffer;
  spki: Buffer;
  keyIdentifier: Buffer;
}

/** Reads what a leaf needs from its issuer's certificate: the subject Name, the key, its identifier. */
function readCaCertificate(der: Buffer): CaFacts {
  const [tbs] = children(der, readWhole(der, TAG.sequence, 'Certificate'), 3);
  if (!tbs) throw new Error('the CA certificate is empty');
  const fields = children(der, expectTag(tbs, TAG.sequence, 'TBSCertificate'), 10);
  // version [0] is optional; then serialNumber, signature, issuer, validity, subject, subjectPublicKeyInfo.
  const first = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[first + 4];
  const spki = fields[first + 5];
  if (!subject || !spki) throw new Error('the CA certificate has no subject or no public key');
  const extensions = fields.slice(first + 6).find((f) => f.tag === 0xa3);
  const keyIdentifier =
    (extensions && findSubjectKeyIdentifier(der, extensions)) ??
    createHash('sha1').update(readSubjectKey(der, spki).bits).digest();
  return {
    subject: Buffer.from(encoded(der, expectTag(subject, TAG.sequence, 'Name'))),
    spki: Buffer.from(encoded(der, spki)),
    keyIdentifier,
  };
}

function findSubjectKeyIdentifier(der: Buffer, wrapper: Tlv): Buffer | null {
  const [list] = children(der, wrapper, 1);
  if (!list) return null;
  for (const ext of children(der, expectTag(list, TAG.sequence, 'Extensions'), 100)) {
    const parts = children(der, expectTag(ext, TAG.sequence, 'Extension'), 3);
    if (!parts[0] || readOid(der, parts[0]) !== OID.subjectKeyIdentifier) continue;
    const value = contents(der, expectTag(parts[parts.length - 1]!, TAG.octetString, 'extnValue'));
    return Buffer.from(contents(value, readWhole(value, TAG.octetString, 'KeyIdentifier')));
  }
  return null;
}

/** Signs leaf certificates under one CA certificate and its private key. */
/** Signs a to-be-signed structure with the CA key, possibly on another thread. */
export interface TbsSigner {
  signTbs(tbs: Buffer): Promise<Buffer>;
}

/** The CA key and its use, as handed to a crypto thread (a KeyObject crosses threads by postMessage). */
export interface SigningParameters {
  key: KeyObject;
  hash: string | null;
  /** ECDSA: sign as a DER Ecdsa-Sig-Value, the form X.509 carries (RFC 3279 §2.2.3). */
  dsaEncoding: boolean;
}

export class CertificateIssuer {
  readonly keyKind: SigningKeyKind;
  private readonly hash: string | null;
  private readonly signingKey: KeyObject | { key: KeyObject; dsaEncoding: 'der' };
  /** The CA's AlgorithmIdentifier, DER. */
  readonly signatureAlgorithm: Buffer;
  /** The CA certificate's subject Name, DER: the issuer of everything it signs. */
  readonly issuerName: Buffer;
  /** The CA key's identifier, as put in the authority key identifier extension. */
  readonly keyIdentifier: Buffer;
  private readonly authorityKeyIdentifier: Buffer;

  constructor(caCertificateDer: Buffer, caPrivateKey: KeyObject) {
    const scheme = signingSchemeFor(caPrivateKey);
    const ca = readCaCertificate(caCertificateDer);
    const certified = createPublicKey({ key: ca.spki, format: 'der', type: 'spki' }).export({
      format: 'der',
      type: 'spki',
    });
    const held = createPublicKey(caPrivateKey).export({ format: 'der', type: 'spki' });
    if (!certified.equals(held)) throw new Error('the CA private key does not match the CA certificate');
    this.keyKind = scheme.kind;
    this.hash = scheme.hash;
    this.signingKey =
      caPrivateKey.asymmetricKeyType === 'ec' ? { key: caPrivateKey, dsaEncoding: 'der' } : caPrivateKey;
    this.signatureAlgorithm = scheme.algorithmIdentifier;
    this.issuerName = ca.subject;
    this.keyIdentifier = ca.keyIdentifier;
    this.authorityKeyIdentifier = extension(
      oid(OID.authorityKeyIdentifier),
      false,
      sequence(implicit(0, ca.keyIdentifier)),
    );
  }

  /** Builds and signs one leaf certificate; throws a plain Error for a spec it cannot encode. */
  issue(spec: LeafSpec): Buffer {
    const tbs = this.toBeSigned(spec);
    return this.assemble(tbs, this.signWithCaKey(tbs));
  }

  /** The same as issue, with the signature made by `signer` (a crypto thread holding the CA key). */
  async issueWith(spec: LeafSpec, signer: TbsSigner): Promise<Buffer> {
    const tbs = this.toBeSigned(spec);
    return this.assemble(tbs, await signer.signTbs(tbs));
  }

  /** The certificate around its to-be-signed part and the CA's signature of it (RFC 5280 §4.1). */
  assemble(tbs: Buffer, signature: Buffer): Buffer {
    return sequence(tbs, this.signatureAlgorithm, bitString(signature));
  }

  /** The TBSCertificate of a leaf; throws a plain Error for a spec it cannot encode. */
  toBeSigned(spec: LeafSpec): Buffer {
    const serial = integer(spec.serial);
    if (serial[1]! > MAX_SERIAL_OCTETS)
      throw new Error(`the serial is longer than ${MAX_SERIAL_OCTETS} octets`);
    if (serial[1] === 1 && serial[2] === 0) throw new Error('the serial must be positive');
    const cnLength = [...spec.commonName].length;
    if (cnLength === 0 || cnLength > MAX_COMMON_NAME) {
      throw new Error(`the commonName must have 1 to ${MAX_COMMON_NAME} characters`);
    }
    if (!(spec.notAfter.getTime() > spec.notBefore.getTime()))
      throw new Error('notAfter must be after notBefore');
    if (!spec.profile.serverAuth && !spec.profile.clientAuth && !spec.profile.ocspSigning)
      throw new Error('the profile allows no key usage');
    if (spec.profile.ocspSigning && (spec.profile.serverAuth || spec.profile.clientAuth))
      throw new Error('an OCSP signing certificate has no other extended key usage');

    const subjectKey = readSubjectKey(spec.spki, readWhole(spec.spki, TAG.sequence, 'SubjectPublicKeyInfo'));
    const extensions = [
      BASIC_CONSTRAINTS,
      subjectKey.algorithm.equals(RSA_ENCRYPTION) ? KEY_USAGE_RSA : KEY_USAGE,
      spec.profile.ocspSigning
        ? EXT_KEY_USAGE.ocsp
        : spec.profile.serverAuth && spec.profile.clientAuth
          ? EXT_KEY_USAGE.both
          : spec.profile.serverAuth
            ? EXT_KEY_USAGE.server
            : EXT_KEY_USAGE.client,
      extension(
        SUBJECT_KEY_IDENTIFIER,
        false,
        octetString(createHash('sha1').update(subjectKey.bits).digest()),
      ),
      this.authorityKeyIdentifier,
    ];
    if (spec.dnsNames.length > 0 || spec.ipAddresses.length > 0) {
      const names = [
        ...spec.dnsNames.map((name) => {
          if (name.length === 0) throw new Error('a dNSName must not be empty (RFC 5280 §4.2.1.6)');
          return implicit(2, ia5Bytes(name));
        }),
        ...spec.ipAddresses.map((address) => implicit(7, ipAddressBytes(address))),
      ];
      extensions.push(extension(SUBJECT_ALT_NAME, false, sequence(...names)));
    }
    if (spec.profile.ocspSigning) extensions.push(OCSP_NOCHECK);
    extensions.push(...(spec.extraExtensions ?? []));
    return sequence(
      VERSION_3,
      serial,
      this.signatureAlgorithm,
      this.issuerName,
      sequence(time(spec.notBefore), time(spec.notAfter)),
      sequence(set(sequence(COMMON_NAME, utf8String(spec.commonName)))),
      spec.spki,
      explicit(3, sequence(...extensions)),
    );
  }

  /** Signs DER the CA vouches for (a certificate's or a CRL's to-be-signed part) with the CA key. */
  signWithCaKey(tbs: Buffer): Buffer {
    return sign(this.hash, tbs, this.signingKey);
  }

  /** What a crypto thread needs to sign as this CA: the key and how it is used. */
  signingParameters(): SigningParameters {
    const key = 'dsaEncoding' in this.signingKey ? this.signingKey.key : this.signingKey;
    return { key, hash: this.hash, dsaEncoding: 'dsaEncoding' in this.signingKey };
  }
}

/**
 * 16 octets: the issuing millisecond (so the store's serial index grows at its end), then 80 bits of
 * CSPRNG output. The CA/Browser Forum Baseline Requirements (§7.1) ask for at least 64 such bits, which
 * is what makes a serial unpredictable to a requester. Milliseconds since 1970 below 2^47 keep the high
 * bit clear and the first octet non-zero, so the INTEGER is positive and minimal and its hex is the
 * serial as stored.
 */
export function randomSerial(now: number = Date.now()): Buffer {
  return timeOrderedBytes(16, now);
}

/** Parses a textual IPv4 or IPv6 address into its 4 or 16 octets. */
export function ipAddressBytes(text: string): Buffer {
  return ipBytes(text);
}
