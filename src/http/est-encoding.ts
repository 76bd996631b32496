/**
 * EST's wire encodings (RFC 7030 §4): base64 PKCS#10 in, base64 certs-only CMS out. Built with
 * @peculiar/asn1-cms rather than by hand; nothing here decides anything.
 */
import {
  CertificateChoices,
  CertificateSet,
  ContentInfo,
  EncapsulatedContentInfo,
  id_data,
  id_signedData,
  SignedData,
  SignerInfos,
} from '@peculiar/asn1-cms';
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate } from '@peculiar/asn1-x509';
import { derToPem } from '../util/pem.js';

/** The media type of EST's certificate answers (RFC 7030 §4.1.3, §4.2.3; RFC 5751 §3.2.2 smime-type). */
export const CERTS_ONLY_MEDIA_TYPE = 'application/pkcs7-mime; smime-type=certs-only';

/**
 * A "certs-only" CMS SignedData (RFC 5652 §5, as RFC 7030 §4.1.3 uses it): version 1, no digest
 * algorithms, empty id-data content, the certificates, and no signers.
 */
export function certsOnlyCms(certificates: Buffer[]): Buffer {
  const signedData = new SignedData({
    version: 1,
    encapContentInfo: new EncapsulatedContentInfo({ eContentType: id_data }),
    certificates: new CertificateSet(
      certificates.map((der) => new CertificateChoices({ certificate: AsnConvert.parse(der, Certificate) })),
    ),
    signerInfos: new SignerInfos(),
  });
  const info = new ContentInfo({
    contentType: id_signedData,
    content: AsnConvert.serialize(signedData),
  });
  return Buffer.from(AsnConvert.serialize(info));
}

/** Base64 in lines of 64 characters, as RFC 7030 §4 bodies are sent (Content-Transfer-Encoding: base64). */
export function base64Body(der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `${lines.join('\n')}\n`;
}

export class EstBodyError extends Error {}

/**
 * The PKCS#10 request of a simpleenroll body, as PEM for the RA. RFC 7030 §4.2.1 says base64 DER;
 * PEM armour and raw DER (some older clients send it) are accepted too, since each is unambiguous.
 */
export function pkcs10BodyToPem(body: Buffer): string {
  if (body.length > 0 && body[0] === 0x30) return derToPem(body, 'CERTIFICATE REQUEST');
  const text = body.toString('latin1');
  if (text.includes('-----BEGIN')) return text;
  const compact = text.replace(/[\r\n\t ]+/g, '');
  if (compact === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) {
    throw new EstBodyError('the body is not base64: send the DER CSR base64-encoded (RFC 7030 §4.2.1)');
  }
  return derToPem(Buffer.from(compact, 'base64'), 'CERTIFICATE REQUEST');
}
