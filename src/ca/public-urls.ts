/**
 * The extensions that tell relying parties where to check a certificate: CRL distribution points
 * (RFC 5280 §4.2.1.13) and authority information access with OCSP and caIssuers (§4.2.2.1).
 */
import { id_pkix_ocsp } from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AccessDescription,
  AuthorityInfoAccessSyntax,
  CRLDistributionPoints,
  DistributionPoint,
  DistributionPointName,
  Extension,
  GeneralName,
  id_ad_caIssuers,
  id_ce_cRLDistributionPoints,
  id_pe_authorityInfoAccess,
} from '@peculiar/asn1-x509';

export interface PublicUrls {
  crl: string;
  ocsp: string;
  /** The CA certificate, DER (RFC 5280 §4.2.2.1: an HTTP caIssuers URI names a DER certificate). */
  caIssuers: string;
}

/**
 * The URLs under a base such as "http://ca.example.com:8080". When `server.public_http_listen` is set
 * the base is plain HTTP: a relying party cannot check a TLS server's certificate by fetching over TLS
 * from a server whose certificate it is checking.
 */
export function publicUrlsUnder(base: string): PublicUrls {
  const root = base.replace(/\/+$/, '');
  return { crl: `${root}/crl`, ocsp: `${root}/ocsp`, caIssuers: `${root}/ca.crt` };
}

function extension(extnID: string, value: object): Buffer {
  return Buffer.from(
    AsnConvert.serialize(
      new Extension({ extnID, critical: false, extnValue: new OctetString(AsnConvert.serialize(value)) }),
    ),
  );
}

/** The two extensions, DER-encoded, to add to every leaf. */
export function publicUrlExtensions(urls: PublicUrls): Buffer[] {
  const crl = new CRLDistributionPoints([
    new DistributionPoint({
      distributionPoint: new DistributionPointName({
        fullName: [new GeneralName({ uniformResourceIdentifier: urls.crl })],
      }),
    }),
  ]);
  const aia = new AuthorityInfoAccessSyntax([
    new AccessDescription({
      accessMethod: id_pkix_ocsp,
      accessLocation: new GeneralName({ uniformResourceIdentifier: urls.ocsp }),
    }),
    new AccessDescription({
      accessMethod: id_ad_caIssuers,
      accessLocation: new GeneralName({ uniformResourceIdentifier: urls.caIssuers }),
    }),
  ]);
  return [extension(id_ce_cRLDistributionPoints, crl), extension(id_pe_authorityInfoAccess, aia)];
}
