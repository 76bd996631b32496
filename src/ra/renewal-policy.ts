/**
 * When a host may renew its certificate by presenting it (POST /v1/renewals, and EST simplereenroll
 * for the names): the `ra.renew_*` settings. Renewal needs no operator, so this is the whole decision
 * beyond "the certificate is this CA's, current and unrevoked" (the auth layer's) and the enroller's
 * "only the names it already holds".
 */

import type { IssuedCertificate } from '../types.js';

export { parseGracePeriod, RENEW_AFTER_EXPIRY_ALLOWED } from '../domain/grace-period.js';

import { certificateSpki } from './csr-input.js';
import { CAUSE_NAMES, PolicyFailure } from './failure.js';

export interface RenewalPolicy {
  /** Share of the lifetime after which renewal opens; 0 = at any time. */
  window: number;
  /** How long after notAfter an expired certificate may still renew itself; 0 = not at all. */
  afterExpiryMs: number;
  sameKey: boolean;
  revokeOnRenew: boolean;
}

/** When renewal of `certificate` opens under `window`. */
export function renewalOpensAt(certificate: { notBefore: Date; notAfter: Date }, window: number): Date {
  const from = certificate.notBefore.getTime();
  const lifetime = certificate.notAfter.getTime() - from;
  return new Date(from + Math.floor(lifetime * window));
}

export interface RenewalAsk {
  /** The certificate presented, as on record. */
  current: IssuedCertificate;
  commonName: string;
  names: readonly string[];
  /** The new CSR's SubjectPublicKeyInfo, DER. */
  spki: Buffer;
  now: Date;
}

const ENROLL_AGAIN =
  'enroll the host again (`certmaster request --server URL --cn NAME` with an account or an enrollment token), then renew it before it expires (`certmaster agent`)';

/** Refuses, with a reason of its own, a renewal the policy does not allow; returns when it does. */
export function checkRenewalPolicy(policy: RenewalPolicy, ask: RenewalAsk): void {
  const { current, now } = ask;
  const serial = current.serial;
  if (now.getTime() > current.notAfter.getTime()) {
    const expired = current.notAfter.toISOString();
    if (policy.afterExpiryMs === 0) {
      throw new PolicyFailure(
        'renewal_after_expiry_refused',
        `certificate ${serial} expired at ${expired}, and this server does not renew expired certificates (ra.renew_after_expiry = none)`,
        ENROLL_AGAIN,
        { facts: { code: 'renewal_after_expiry', serial, expiredAt: expired, graceEnd: null } },
      );
    }
    const graceEnd = new Date(current.notAfter.getTime() + policy.afterExpiryMs);
    if (now.getTime() > graceEnd.getTime()) {
      throw new PolicyFailure(
        'renewal_after_expiry_refused',
        `certificate ${serial} expired at ${expired}; renewal after expiry was allowed until ${graceEnd.toISOString()}`,
        ENROLL_AGAIN,
        {
          facts: {
            code: 'renewal_after_expiry',
            serial,
            expiredAt: expired,
            graceEnd: graceEnd.toISOString(),
          },
        },
      );
    }
  }
  const held = new Set([current.commonName, ...current.dnsNames, ...current.ipAddresses]);
  const added = [ask.commonName, ...ask.names].filter((n) => !held.has(n));
  if (ask.commonName !== current.commonName || added.length > 0) {
    const shown = [...new Set(added)];
    throw new PolicyFailure(
      'renewal_names_changed',
      `a renewal may not add names: certificate ${serial} is for CN ${current.commonName} (${[...current.dnsNames, ...current.ipAddresses].join(', ') || 'no SANs'}); the CSR asks for CN ${ask.commonName}${shown.length > 0 ? `, adding ${shown.join(', ')}` : ''}`,
      'make the CSR with the same common name and at most the names of the certificate you renew (`certmaster renew` does); for new names, enroll with an account or an enrollment token',
      {
        field: 'names',
        facts: {
          code: 'renewal_names_differ',
          serial,
          held: [...held].slice(0, CAUSE_NAMES),
          asked: [ask.commonName, ...ask.names].slice(0, CAUSE_NAMES),
          rule: 'no_additions',
        },
      },
    );
  }
  if (!policy.sameKey && certificateSpki(current.certificatePem).equals(ask.spki)) {
    throw new PolicyFailure(
      'renewal_same_key',
      `the CSR uses the key of certificate ${serial}; this server requires a new key on renewal (ra.renew_same_key = false)`,
      'generate a new key for the renewal (`certmaster renew` does) and send its CSR',
      { field: 'csr', facts: { code: 'renewal_key_reused', serial } },
    );
  }
  if (policy.window > 0) {
    const opens = renewalOpensAt(current, policy.window);
    if (now.getTime() < opens.getTime()) {
      throw new PolicyFailure(
        'renewal_not_yet_open',
        `renewal of certificate ${serial} opens at ${opens.toISOString()}, after ${Math.round(policy.window * 100)}% of its lifetime (ra.renew_window = ${policy.window})`,
        `try again after ${opens.toISOString()}; \`certmaster agent\` renews at the right time by itself`,
        {
          retryAfterSeconds: Math.max(1, Math.ceil((opens.getTime() - now.getTime()) / 1000)),
          facts: {
            code: 'renewal_window_closed',
            serial,
            opensAt: opens.toISOString(),
            window: policy.window,
          },
        },
      );
    }
  }
}
