/** What the RA says when the store finds a request's name already taken. */
import type { CertificateRequest, IssuedCertificate } from '../types.js';
import { certificateKeyFingerprint, keyFingerprint } from './csr-input.js';
import { PolicyFailure } from './failure.js';

export function pendingConflict(request: CertificateRequest, existing: CertificateRequest): PolicyFailure {
  return new PolicyFailure(
    'request_conflict',
    `a different CSR for ${request.commonName} has been waiting for approval since ${existing.createdAt.toISOString()}`,
    'wait until an operator signs or rejects the pending request, then submit again; an operator can see it with `certmaster ca list --pending`',
    {
      field: 'commonName',
      facts: {
        code: 'request_pending',
        name: request.commonName,
        since: existing.createdAt.toISOString(),
      },
    },
  );
}

/**
 * The caller may be anyone: it learns only that the name is taken. The serial, expiry and both keys
 * are for the operator, who must not revoke a healthy host because a stranger asked.
 */
export function certificateConflict(
  request: CertificateRequest,
  existing: IssuedCertificate,
  spki: Buffer,
): PolicyFailure {
  const held = certificateKeyFingerprint(existing.certificatePem);
  return new PolicyFailure(
    'request_conflict',
    `${request.commonName} already holds a valid certificate for another key`,
    'if this is your host and it lost its key, ask the operator of this CA, quoting the request id',
    {
      field: 'commonName',
      cause: `${request.commonName} holds certificate ${existing.serial} (valid until ${existing.notAfter.toISOString()}) for key SHA-256 ${held}; the request's key is SHA-256 ${keyFingerprint(spki)}`,
      facts: {
        code: 'certificate_held',
        name: request.commonName,
        serial: existing.serial,
        notAfter: existing.notAfter.toISOString(),
        heldKeySha256: held,
        requestedKeySha256: keyFingerprint(spki),
      },
    },
  );
}
