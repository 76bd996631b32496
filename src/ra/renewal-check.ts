/**
 * Whether a caller may renew the certificate it presented: its own, unrevoked certificate, then the
 * renewal policy (POST /v1/renewals) or exactly the same names (EST, RFC 7030 §4.2.2).
 */
import type { IssuedCertificate, Principal } from '../types.js';
import { CAUSE_NAMES, PolicyFailure } from './failure.js';
import { checkRenewalPolicy, type RenewalPolicy } from './renewal-policy.js';

export interface PresentedRenewal {
  principal: Principal;
  /** Serial of the certificate being renewed. */
  renews?: string;
  /** POST /v1/renewals (the renewal policy) rather than EST (the same names). */
  renewal?: boolean;
}

export interface RenewalRequest {
  commonName: string;
  names: string[];
  /** The new CSR's SubjectPublicKeyInfo, DER. */
  spki: Buffer;
  policy: RenewalPolicy;
  now: Date;
}

export async function checkPresentedRenewal(
  store: { getCertificate(serial: string): Promise<IssuedCertificate | null> },
  input: PresentedRenewal,
  { commonName, names, spki, policy, now }: RenewalRequest,
): Promise<void> {
  const current = input.renews === undefined ? null : await store.getCertificate(input.renews);
  if (!current || input.principal.certificate?.serial !== current.serial || current.revokedAt) {
    throw new PolicyFailure(
      'name_not_allowed',
      `certificate ${input.renews} cannot be renewed by ${input.principal.name}`,
      'present the unrevoked certificate being renewed on the TLS connection',
      {
        facts: {
          code: 'renewal_not_permitted',
          serial: String(input.renews ?? '').slice(0, 64),
          principal: input.principal.name,
        },
      },
    );
  }
  if (input.renewal === true) {
    checkRenewalPolicy(policy, { current, commonName, names, spki, now });
    return;
  }
  const held = [...current.dnsNames, ...current.ipAddresses].sort();
  const asked = [...names].sort();
  if (commonName !== current.commonName || held.join(',') !== asked.join(',')) {
    throw new PolicyFailure(
      'name_not_allowed',
      `a renewal must ask for exactly the names of certificate ${current.serial} (CN ${current.commonName}; ${held.join(', ')}); the CSR asks for CN ${commonName}; ${asked.join(', ')}`,
      'make the CSR with the same subject and subjectAltName as the current certificate (RFC 7030 §4.2.2); for other names, enroll with simpleenroll',
      {
        field: 'names',
        facts: {
          code: 'renewal_names_differ',
          serial: current.serial,
          held: [current.commonName, ...held].slice(0, CAUSE_NAMES),
          asked: [commonName, ...asked].slice(0, CAUSE_NAMES),
          rule: 'exact',
        },
      },
    );
  }
}
