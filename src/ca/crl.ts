/**
 * Certificate revocation lists (RFC 5280 §5), built with the @peculiar/asn1-x509 structures and signed
 * with the CA key.
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityKeyIdentifier,
  CRLNumber,
  CRLReason,
  Extension,
  id_ce_authorityKeyIdentifier,
  id_ce_cRLNumber,
  id_ce_cRLReasons,
  KeyIdentifier,
  Name,
  RevokedCertificate,
  TBSCertList,
  Time,
  Version,
} from '@peculiar/asn1-x509';
import { bitString, sequence } from './der.js';
import type { CertificateIssuer } from './issuer.js';
import { REVOCATION_REASONS, type RevocationReason } from './revocation-reasons.js';

export interface CrlEntry {
  /** Lower-case hex, as stored. */
  serial: string;
  revokedAt: Date;
  /** A reason name of revocation-reasons.ts, or null. */
  reason: string | null;
}

export interface CrlContents {
  crlNumber: bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  entries: readonly CrlEntry[];
}

/** The INTEGER contents of a serial: a leading zero octet keeps a high first bit positive (X.690 §8.3). */
export function serialToIntegerBytes(serial: string): ArrayBuffer {
  const bytes = Buffer.from(serial.length % 2 === 1 ? `0${serial}` : serial, 'hex');
  const positive =
    bytes[0] !== undefined && bytes[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes;
  return new Uint8Array(positive).buffer;
}

/** A CRL number as the INTEGER the extension carries; it never exceeds 2^53 in practice. */
function crlNumberExtension(crlNumber: bigint): Extension {
  return new Extension({
    extnID: id_ce_cRLNumber,
    critical: false,
    extnValue: new OctetString(AsnConvert.serialize(new CRLNumber(Number(crlNumber)))),
  });
}

function reasonExtension(reason: string | null): Extension[] {
  const code = reason === null ? undefined : REVOCATION_REASONS[reason as RevocationReason];
  // RFC 5280 §5.3.1: the reason code unspecified SHOULD be absent rather than present.
  if (code === undefined || code === REVOCATION_REASONS.unspecified) return [];
  return [
    new Extension({
      extnID: id_ce_cRLReasons,
      critical: false,
      extnValue: new OctetString(AsnConvert.serialize(new CRLReason(code))),
    }),
  ];
}

/** Builds and signs a v2 CRL with the CRL number and authority key identifier extensions (RFC 5280 §5.2). */
export function signCrl(issuer: CertificateIssuer, contents: CrlContents): Buffer {
  const aki = new AuthorityKeyIdentifier({
    keyIdentifier: new KeyIdentifier(new Uint8Array(issuer.keyIdentifier)),
  });
  const tbs = new TBSCertList({
    version: Version.v2,
    signature: AsnConvert.parse(issuer.signatureAlgorithm, AlgorithmIdentifier),
    issuer: AsnConvert.parse(issuer.issuerName, Name),
    thisUpdate: new Time(contents.thisUpdate),
    nextUpdate: new Time(contents.nextUpdate),
    crlExtensions: [
      new Extension({
        extnID: id_ce_authorityKeyIdentifier,
        critical: false,
        extnValue: new OctetString(AsnConvert.serialize(aki)),
      }),
      crlNumberExtension(contents.crlNumber),
    ],
  });
  // RFC 5280 §5.1.2.6: when there are no revoked certificates the list is absent, not empty.
  if (contents.entries.length > 0) {
    tbs.revokedCertificates = contents.entries.map(
      (entry) =>
        new RevokedCertificate({
          userCertificate: serialToIntegerBytes(entry.serial),
          revocationDate: new Time(entry.revokedAt),
          ...(reasonExtension(entry.reason).length > 0
            ? { crlEntryExtensions: reasonExtension(entry.reason) }
            : {}),
        }),
    );
  }
  const tbsDer = Buffer.from(AsnConvert.serialize(tbs));
  return sequence(tbsDer, issuer.signatureAlgorithm, bitString(issuer.signWithCaKey(tbsDer)));
}
