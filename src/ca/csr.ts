/**
 * The fast PKCS#10 reader (RFC 2986): the structure, the proof of possession, and exactly the facts the
 * registration authority decides on. Everything else in a request is ignored, never copied into a certificate.
 */
import { createHash, type KeyObject } from 'node:crypto';
import type { ParsedCsr, PublicKeyDescription } from '../types.js';
import { ipFromBytes } from '../util/ip.js';
import { CsrError, exactly } from './csr-error.js';
import {
  children,
  contents,
  DerError,
  encoded,
  expectTag,
  readBitString,
  readOid,
  readSmallInteger,
  readString,
  readWhole,
  TAG,
  type Tlv,
} from './der.js';
import { OID } from './oids.js';
import { type PossessionJob, type PossessionOutcome, provePossession } from './possession.js';

export { CsrError };

export const MAX_CSR_BYTES = 16 * 1024;
const MAX_PEM_CHARS = 32 * 1024;
const MAX_RDNS = 64;
const MAX_RDN_ATTRIBUTES = 16;
const MAX_ATTRIBUTES = 32;
const MAX_EXTENSIONS = 64;
/** Enough to parse any sane request; the RA applies the real limit. */
const MAX_SAN_ENTRIES = 1000;
const ATTRIBUTES_TAG = 0xa0;

interface SignatureScheme {
  hash: string | null;
  keyType: string;
  /** RFC 4055 §5 gives RSA a NULL parameter (some encoders omit it); RFC 5758 §3.2 and RFC 8410 §3 say absent. */
  nullParameterAllowed: boolean;
}

const ecdsa = (hash: string): SignatureScheme => ({ hash, keyType: 'ec', nullParameterAllowed: false });
const rsa = (hash: string): SignatureScheme => ({ hash, keyType: 'rsa', nullParameterAllowed: true });

const SIGNATURE_SCHEMES: ReadonlyMap<string, SignatureScheme> = new Map([
  [OID.ecdsaWithSha256, ecdsa('sha256')],
  [OID.ecdsaWithSha384, ecdsa('sha384')],
  [OID.ecdsaWithSha512, ecdsa('sha512')],
  [OID.sha256WithRSAEncryption, rsa('sha256')],
  [OID.sha384WithRSAEncryption, rsa('sha384')],
  [OID.sha512WithRSAEncryption, rsa('sha512')],
  [OID.ed25519, { hash: null, keyType: 'ed25519', nullParameterAllowed: false }],
  [OID.ed448, { hash: null, keyType: 'ed448', nullParameterAllowed: false }],
]);

/** GeneralName kinds by context tag (RFC 5280 §4.2.1.6), with the tag octet DER requires for each. */
const GENERAL_NAMES: ReadonlyArray<readonly [kind: string, tag: number]> = [
  ['otherName', 0xa0],
  ['rfc822Name', 0x81],
  ['dNSName', 0x82],
  ['x400Address', 0xa3],
  ['directoryName', 0xa4],
  ['ediPartyName', 0xa5],
  ['uniformResourceIdentifier', 0x86],
  ['iPAddress', 0x87],
  ['registeredID', 0x88],
];

/** Runs one step of the parse, turning a DER failure into a CsrError that names the part. */
function within<T>(field: string, what: string, step: () => T): T {
  try {
    return step();
  } catch (e) {
    if (e instanceof DerError) throw new CsrError(field, `${what} is not valid DER: ${e.message}`);
    throw e;
  }
}

/** Reads one PEM block with the given label (RFC 7468), refusing anything around or beside it. */
export function pemToDer(pem: string, label: string): Buffer {
  if (typeof pem !== 'string' || pem.length > MAX_PEM_CHARS) {
    throw new CsrError('csr', `the PEM text must be a string of at most ${MAX_PEM_CHARS} characters`);
  }
  const begin = `-----BEGIN ${label}-----`;
  const end = `-----END ${label}-----`;
  const text = pem.trim();
  if (!text.startsWith(begin) || !text.endsWith(end) || text.length < begin.length + end.length) {
    throw new CsrError('csr', `expected exactly one PEM block starting "${begin}" and ending "${end}"`);
  }
  const body = text.slice(begin.length, text.length - end.length).replace(/\s+/g, '');
  if (body.includes('-----')) throw new CsrError('csr', `expected exactly one PEM block labelled "${label}"`);
  if (body.length === 0 || body.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
    throw new CsrError('csr', `the body of the "${label}" PEM block is not valid base64`);
  }
  return Buffer.from(body, 'base64');
}

/** What the CSR holds before its proof of possession is checked, and the data to check it with. */
interface CsrParts {
  der: Buffer;
  spki: Buffer;
  subject: Tlv;
  attributes: Tlv;
  possession: PossessionJob;
}

/** Checks proofs of possession, on this thread or on a crypto thread (crypto-pool.ts). */
export interface PossessionChecker {
  checkPossession(job: PossessionJob): Promise<PossessionOutcome>;
}

/**
 * Parses a DER PKCS#10 request and verifies its signature over the exact CertificationRequestInfo bytes,
 * which proves the requester holds the private key. Throws only CsrError.
 */
export function parseCsr(input: Buffer): ParsedCsr & { publicKey: KeyObject } {
  const parts = readCsrParts(input);
  const { key, publicKey } = provePossession(parts.possession);
  return { ...readCsrNames(parts, key), publicKey };
}

/**
 * Only the names a DER PKCS#10 request asks for, its signature unchecked: for the record of a request
 * refused before the RA read it (a spent enrollment token), never for a decision. Throws only CsrError.
 */
export function readCsrRequestedNames(input: Buffer): {
  commonName: string | null;
  dnsNames: string[];
  ipAddresses: string[];
} {
  const parts = readCsrParts(input);
  const { der, subject, attributes } = parts;
  const commonName = within('subject', 'the CSR subject', () => readCommonName(der, subject));
  const requested = within('attributes', "the CSR's attributes", () => readAttributes(der, attributes));
  const names = requested.subjectAltName
    ? within('subjectAltName', 'the requested subjectAltName', () =>
        readSubjectAltName(requested.subjectAltName!),
      )
    : { dnsNames: [], ipAddresses: [] };
  return { commonName, dnsNames: names.dnsNames, ipAddresses: names.ipAddresses };
}

/**
 * The same as parseCsr, with the proof of possession (key import and signature verification, most of the
 * CPU an issuance costs) checked by `checker`, which may run it on another thread. The checks run in the
 * same order, so a CSR wrong in several ways is refused for the same reason either way.
 */
export async function parseCsrWith(input: Buffer, checker: PossessionChecker): Promise<ParsedCsr> {
  const parts = readCsrParts(input);
  const outcome = await checker.checkPossession(parts.possession);
  if (!outcome.ok) throw new CsrError(outcome.field, outcome.message);
  return readCsrNames(parts, outcome.key);
}

function readCsrParts(input: Buffer): CsrParts {
  if (!Buffer.isBuffer(input)) throw new CsrError('csr', 'the CSR must be given as DER bytes');
  if (input.length > MAX_CSR_BYTES) {
    throw new CsrError('csr', `the CSR is ${input.length} bytes long; at most ${MAX_CSR_BYTES} are accepted`);
  }
  const der = Buffer.from(input);
  const [cri, algorithm, signature] = within('csr', 'the CSR', () =>
    exactly(der, readWhole(der, TAG.sequence, 'CertificationRequest'), 3, 'CertificationRequest'),
  ) as [Tlv, Tlv, Tlv];
  const [version, subject, spkiTlv, attributes] = within('csr', 'the CSR', () =>
    exactly(der, expectTag(cri, TAG.sequence, 'CertificationRequestInfo'), 4, 'CertificationRequestInfo'),
  ) as [Tlv, Tlv, Tlv, Tlv];
  const versionNumber = within('version', 'the CSR version', () => readSmallInteger(der, version));
  if (versionNumber !== 0)
    throw new CsrError('version', `the CSR version must be 0 (v1), not ${versionNumber}`);

  const scheme = readSignatureScheme(der, algorithm);
  const spki = within('publicKey', "the CSR's public key", () =>
    encoded(der, expectTag(spkiTlv, TAG.sequence, 'SubjectPublicKeyInfo')),
  );
  const signatureBytes = within('signature', "the CSR's signature", () => readBitString(der, signature));
  return {
    der,
    spki,
    subject,
    attributes,
    possession: {
      spki,
      hash: scheme.hash,
      keyType: scheme.keyType,
      signed: encoded(der, cri),
      signature: signatureBytes,
    },
  };
}

function readCsrNames(parts: CsrParts, key: PublicKeyDescription): ParsedCsr {
  const { der, subject, attributes } = parts;
  const commonName = within('subject', 'the CSR subject', () => readCommonName(der, subject));
  const requested = within('attributes', "the CSR's attributes", () => readAttributes(der, attributes));
  const names = requested.subjectAltName
    ? within('subjectAltName', 'the requested subjectAltName', () =>
        readSubjectAltName(requested.subjectAltName!),
      )
    : { dnsNames: [], ipAddresses: [], otherNameKinds: [] };
  return {
    der,
    sha256: createHash('sha256').update(der).digest('hex'),
    commonName,
    ...names,
    challengePassword: requested.challengePassword,
    spki: parts.spki,
    key,
  };
}

function readSignatureScheme(der: Buffer, algorithm: Tlv): SignatureScheme {
  const { id, parameters } = within('signatureAlgorithm', "the CSR's signature algorithm", () => {
    const parts = children(der, expectTag(algorithm, TAG.sequence, 'AlgorithmIdentifier'), 3);
    if (parts.length === 0 || parts.length > 2)
      throw new DerError('AlgorithmIdentifier must have 1 or 2 elements');
    return { id: readOid(der, parts[0]!), parameters: parts[1] };
  });
  if (id === OID.rsassaPss) {
    throw new CsrError(
      'signatureAlgorithm',
      `the CSR is signed with RSASSA-PSS (${id}), which certmaster does not accept; sign it with RSA PKCS#1 v1.5, ECDSA or Ed25519`,
    );
  }
  const scheme = SIGNATURE_SCHEMES.get(id);
  if (!scheme) {
    throw new CsrError(
      'signatureAlgorithm',
      `the CSR is signed with algorithm ${id}, which certmaster does not accept; use ECDSA or RSA PKCS#1 v1.5 with SHA-256/384/512, or Ed25519`,
    );
  }
  const isNull = parameters?.tag === TAG.null && parameters.end === parameters.contentStart;
  if (parameters && !(isNull && scheme.nullParameterAllowed)) {
    throw new CsrError(
      'signatureAlgorithm',
      `the CSR's signature algorithm ${id} carries parameters it must not have`,
    );
  }
  return scheme;
}

function readCommonName(der: Buffer, name: Tlv): string | null {
  let commonName: string | null = null;
  for (const rdn of children(der, expectTag(name, TAG.sequence, 'Name'), MAX_RDNS)) {
    const attributes = children(
      der,
      expectTag(rdn, TAG.set, 'RelativeDistinguishedName'),
      MAX_RDN_ATTRIBUTES,
    );
    if (attributes.length === 0) throw new DerError('empty RelativeDistinguishedName');
    for (const attribute of attributes) {
      const [type, value] = exactly(
        der,
        expectTag(attribute, TAG.sequence, 'AttributeTypeAndValue'),
        2,
        'AttributeTypeAndValue',
      );
      if (readOid(der, type!) !== OID.commonName) continue;
      if (commonName !== null) {
        throw new CsrError('subject', 'the CSR subject has more than one commonName; send exactly one');
      }
      commonName = readString(der, value!);
    }
  }
  return commonName;
}

interface RequestedAttributes {
  /** The DER of the requested subjectAltName extension's value (GeneralNames). */
  subjectAltName: Buffer | null;
  challengePassword: string | null;
}

function readAttributes(der: Buffer, attributes: Tlv): RequestedAttributes {
  const found: RequestedAttributes = { subjectAltName: null, challengePassword: null };
  const seen = new Set<string>();
  for (const attribute of children(
    der,
    expectTag(attributes, ATTRIBUTES_TAG, 'attributes'),
    MAX_ATTRIBUTES,
  )) {
    const [typeTlv, valuesTlv] = exactly(
      der,
      expectTag(attribute, TAG.sequence, 'Attribute'),
      2,
      'Attribute',
    );
    const type = readOid(der, typeTlv!);
    if (type !== OID.extensionRequest && type !== OID.challengePassword) continue;
    const name = type === OID.extensionRequest ? 'extensionRequest' : 'challengePassword';
    if (seen.has(type))
      throw new CsrError('attributes', `the CSR carries the ${name} attribute more than once`);
    seen.add(type);
    const values = children(der, expectTag(valuesTlv!, TAG.set, 'attribute values'), 2);
    if (values.length !== 1)
      throw new CsrError('attributes', `the ${name} attribute must have exactly one value`);
    if (type === OID.challengePassword) found.challengePassword = readString(der, values[0]!);
    else found.subjectAltName = findSubjectAltName(der, values[0]!);
  }
  return found;
}

function findSubjectAltName(der: Buffer, extensions: Tlv): Buffer | null {
  let subjectAltName: Buffer | null = null;
  for (const extension of children(der, expectTag(extensions, TAG.sequence, 'Extensions'), MAX_EXTENSIONS)) {
    const parts = children(der, expectTag(extension, TAG.sequence, 'Extension'), 4);
    if (parts.length !== 2 && parts.length !== 3) throw new DerError('Extension must have 2 or 3 elements');
    if (parts.length === 3) expectTag(parts[1]!, TAG.boolean, 'Extension critical flag');
    const value = expectTag(parts[parts.length - 1]!, TAG.octetString, 'Extension value');
    if (readOid(der, parts[0]!) !== OID.subjectAltName) continue;
    // RFC 5280 §4.2: an extension appears at most once.
    if (subjectAltName)
      throw new CsrError('subjectAltName', 'the CSR requests the subjectAltName extension twice');
    subjectAltName = contents(der, value);
  }
  return subjectAltName;
}

function readSubjectAltName(san: Buffer): Pick<ParsedCsr, 'dnsNames' | 'ipAddresses' | 'otherNameKinds'> {
  const dnsNames: string[] = [];
  const ipAddresses: string[] = [];
  const otherNameKinds = new Set<string>();
  const names = children(san, readWhole(san, TAG.sequence, 'GeneralNames'), MAX_SAN_ENTRIES);
  if (names.length === 0)
    throw new CsrError('subjectAltName', 'the requested subjectAltName is empty (RFC 5280 §4.2.1.6)');
  for (const name of names) {
    const [kind, tag] = GENERAL_NAMES[name.tag & 0x1f] ?? [];
    if (kind === undefined || name.tag !== tag)
      throw new DerError(`unknown GeneralName with tag 0x${name.tag.toString(16)}`);
    if (kind === 'dNSName') {
      dnsNames.push(readString(san, { ...name, tag: TAG.ia5String }));
    } else if (kind === 'iPAddress') {
      const address = contents(san, name);
      if (address.length !== 4 && address.length !== 16) {
        throw new CsrError(
          'subjectAltName',
          `an iPAddress entry is ${address.length} octets long; it must be 4 (IPv4) or 16 (IPv6)`,
        );
      }
      ipAddresses.push(formatIpAddress(address));
    } else {
      otherNameKinds.add(kind);
    }
  }
  return { dnsNames, ipAddresses, otherNameKinds: [...otherNameKinds] };
}

/** Text form of a 4- or 16-octet address; IPv6 as RFC 5952 §4 prescribes, with §5's form for IPv4-mapped. */
export function formatIpAddress(bytes: Buffer): string {
  return ipFromBytes(bytes);
}
