/**
 * OCSP (RFC 6960) in the lightweight profile of RFC 5019: reading a request, and building responses
 * signed by a delegated responder certificate. Built with the @peculiar/asn1-ocsp structures.
 */
import { createHash, createPublicKey, type KeyObject, sign } from 'node:crypto';
import {
  BasicOCSPResponse,
  type CertID,
  CertStatus,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  KeyHash,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
} from '@peculiar/asn1-ocsp';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  Certificate,
  CRLReason,
  type Extension,
  SubjectPublicKeyInfo,
} from '@peculiar/asn1-x509';
import { REVOCATION_REASONS, type RevocationReason } from './revocation-reasons.js';

/** A request the responder cannot read; answered with the malformedRequest status (RFC 6960 §2.3). */
export class OcspMalformedRequest extends Error {}

/** RFC 8954 §2.1: nonces are 1 to 32 octets; a longer one is refused rather than echoed. */
const MAX_NONCE_OCTETS = 32;

const HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

export interface ParsedOcspRequest {
  certId: CertID;
  /** Lower-case hex without leading zero octets, as the store keeps serials. */
  serial: string;
  /** The nonce extension as sent, echoed verbatim (RFC 6960 §4.4.1), or null. */
  nonce: Extension | null;
}

/** Reads a DER OCSPRequest; throws OcspMalformedRequest for anything it cannot answer. */
export function parseOcspRequest(der: Buffer): ParsedOcspRequest {
  let request: OCSPRequest;
  try {
    request = AsnConvert.parse(der, OCSPRequest);
  } catch {
    throw new OcspMalformedRequest('the body is not a DER OCSPRequest');
  }
  const list = request.tbsRequest.requestList;
  // RFC 5019 §2.1.1: a request in the lightweight profile carries exactly one Request.
  if (list.length !== 1 || list[0] === undefined) {
    throw new OcspMalformedRequest('the request must ask about exactly one certificate');
  }
  const certId = list[0].reqCert;
  const nonce = request.tbsRequest.requestExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce) ?? null;
  if (nonce !== null && nonce.extnValue.byteLength > MAX_NONCE_OCTETS + 2) {
    throw new OcspMalformedRequest('the nonce is longer than 32 octets');
  }
  const serialBytes = Buffer.from(certId.serialNumber);
  let start = 0;
  while (start < serialBytes.length - 1 && serialBytes[start] === 0) start++;
  return {
    certId,
    serial: serialBytes.subarray(start).toString('hex'),
    nonce,
  };
}

export type OcspStatus =
  | { kind: 'good' }
  | { kind: 'revoked'; revokedAt: Date; reason: string | null }
  | { kind: 'unknown' };

/** A response with no signature: malformedRequest, internalError or tryLater (RFC 6960 §4.2.1). */
export function unsignedOcspResponse(status: OCSPResponseStatus): Buffer {
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: status })));
}

export const MALFORMED_REQUEST = (): Buffer => unsignedOcspResponse(OCSPResponseStatus.malformedRequest);
export const INTERNAL_ERROR = (): Buffer => unsignedOcspResponse(OCSPResponseStatus.internalError);

/** The delegated responder: its key, its certificate (issued by the CA), and what identifies the CA. */
export class OcspSigner {
  readonly notAfter: Date;
  private readonly certificate: Certificate;
  private readonly responderId: ResponderID;
  private readonly signatureAlgorithm: AlgorithmIdentifier;
  private readonly issuerName: Buffer;
  private readonly issuerKeyBits: Buffer;

  constructor(
    private readonly key: KeyObject,
    certificateDer: Buffer,
    caCertificateDer: Buffer,
  ) {
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new Error('the OCSP signing key must be an EC P-256 key');
    }
    this.certificate = AsnConvert.parse(certificateDer, Certificate);
    this.notAfter = this.certificate.tbsCertificate.validity.notAfter.getTime();
    const ownKey = Buffer.from(this.certificate.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
    const held = createPublicKey(key).export({ format: 'der', type: 'spki' });
    const certified = Buffer.from(AsnConvert.serialize(this.certificate.tbsCertificate.subjectPublicKeyInfo));
    if (!held.equals(certified)) throw new Error('the OCSP signing key does not match its certificate');
    // RFC 5019 §2.2.3: responders SHOULD identify themselves by key hash (SHA-1 of the key's BIT STRING).
    this.responderId = new ResponderID({
      byKey: new KeyHash(createHash('sha1').update(ownKey).digest()),
    });
    this.signatureAlgorithm = new AlgorithmIdentifier({ algorithm: '1.2.840.10045.4.3.2' });
    const ca = AsnConvert.parse(caCertificateDer, Certificate);
    this.issuerName = Buffer.from(AsnConvert.serialize(ca.tbsCertificate.subject));
    this.issuerKeyBits = Buffer.from(
      AsnConvert.parse(AsnConvert.serialize(ca.tbsCertificate.subjectPublicKeyInfo), SubjectPublicKeyInfo)
        .subjectPublicKey,
    );
  }

  /** Whether the CertID names a certificate of our CA (RFC 6960 §4.1.1: issuer name and key hashes). */
  issuedByOurCa(certId: CertID): boolean {
    const hash = HASHES[certId.hashAlgorithm.algorithm];
    if (hash === undefined) return false;
    const nameHash = createHash(hash).update(this.issuerName).digest();
    const keyHash = createHash(hash).update(this.issuerKeyBits).digest();
    return (
      nameHash.equals(Buffer.from(certId.issuerNameHash.buffer)) &&
      keyHash.equals(Buffer.from(certId.issuerKeyHash.buffer))
    );
  }

  /** A successful basic response about one certificate, signed by the responder key. */
  sign(params: {
    certId: CertID;
    status: OcspStatus;
    thisUpdate: Date;
    nextUpdate: Date;
    nonce: Extension | null;
  }): Buffer {
    const thisUpdate = wholeSeconds(params.thisUpdate);
    const nextUpdate = wholeSeconds(params.nextUpdate);
    const certStatus =
      params.status.kind === 'good'
        ? new CertStatus({ good: null })
        : params.status.kind === 'unknown'
          ? new CertStatus({ unknown: null })
          : new CertStatus({
              revoked: revokedInfo(wholeSeconds(params.status.revokedAt), params.status.reason),
            });
    const data = new ResponseData({
      responderID: this.responderId,
      producedAt: thisUpdate,
      responses: [
        new SingleResponse({
          certID: params.certId,
          certStatus,
          thisUpdate,
          nextUpdate,
        }),
      ],
      ...(params.nonce ? { responseExtensions: [params.nonce] } : {}),
    });
    const tbs = Buffer.from(AsnConvert.serialize(data));
    const basic = new BasicOCSPResponse({
      tbsResponseData: data,
      signatureAlgorithm: this.signatureAlgorithm,
      signature: new Uint8Array(sign('sha256', tbs, { key: this.key, dsaEncoding: 'der' })).buffer,
      certs: [this.certificate],
    });
    return Buffer.from(
      AsnConvert.serialize(
        new OCSPResponse({
          responseStatus: OCSPResponseStatus.successful,
          responseBytes: new ResponseBytes({
            responseType: id_pkix_ocsp_basic,
            response: new OctetString(AsnConvert.serialize(basic)),
          }),
        }),
      ),
    );
  }
}

function revokedInfo(revokedAt: Date, reason: string | null): RevokedInfo {
  const code = reason === null ? undefined : REVOCATION_REASONS[reason as RevocationReason];
  return new RevokedInfo({
    revocationTime: revokedAt,
    ...(code === undefined ? {} : { revocationReason: new CRLReason(code) }),
  });
}

/** RFC 5280 §4.1.2.5.2 (which RFC 6960 follows): GeneralizedTime carries no fractional seconds. */
function wholeSeconds(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 1000) * 1000);
}
