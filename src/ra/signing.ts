/** Turning a decided request into a certificate, and the site's trigger veto before any action. */
import type { LeafRequest, SignedLeaf } from '../ca/authority.js';
import { LEAF_PROFILES } from '../ca/profiles.js';
import { DEFAULT_LEAF_PROFILE } from '../domain/leaf-profiles.js';
import type { CertificateRequest, IssuedCertificate } from '../types.js';
import { PolicyFailure } from './failure.js';
import type { TriggerEvent, TriggerOutcome } from './triggers.js';

export interface Signer {
  signLeaf(req: LeafRequest): Promise<SignedLeaf>;
}

export interface Triggers {
  /** `beforeRunning` is awaited before the first trigger runs, and only when one will. */
  run(event: TriggerEvent, beforeRunning?: () => Promise<void>): Promise<TriggerOutcome>;
}

export async function signRequest(
  signer: Signer,
  request: CertificateRequest,
  spki: Buffer,
  validityDays: number,
  now: Date,
): Promise<IssuedCertificate> {
  let leaf: SignedLeaf;
  try {
    leaf = await signer.signLeaf({
      commonName: request.commonName,
      dnsNames: request.dnsNames,
      ipAddresses: request.ipAddresses,
      spki,
      validityDays,
      now,
      profile: LEAF_PROFILES[request.profile ?? DEFAULT_LEAF_PROFILE],
    });
  } catch (e) {
    throw new PolicyFailure(
      'ca_unavailable',
      (e as Error).message,
      'an operator must renew or replace the CA',
      { facts: { code: 'ca_cannot_sign', why: (e as Error).message } },
    );
  }
  return {
    serial: leaf.serial,
    requestId: request.id,
    commonName: request.commonName,
    dnsNames: request.dnsNames,
    ipAddresses: request.ipAddresses,
    notBefore: leaf.notBefore,
    notAfter: leaf.notAfter,
    certificatePem: leaf.pem,
    createdAt: now,
    revokedAt: null,
    revocationReason: null,
  };
}

/** Runs a pre trigger and refuses the action when it says no. */
export async function veto(
  triggers: Triggers,
  event: TriggerEvent,
  beforeRunning?: () => Promise<void>,
): Promise<void> {
  const outcome = await triggers.run(event, beforeRunning);
  if (!outcome.ok) {
    throw new PolicyFailure(
      'request_vetoed',
      `the ${event.phase}-${event.event} trigger ${outcome.trigger} refused: ${outcome.message}`,
      'this site runs its own checks before acting; ask an operator what the trigger requires',
      {
        facts: {
          code: 'trigger_vetoed',
          trigger: outcome.trigger,
          event: `${event.phase}-${event.event}`,
          message: outcome.message,
        },
      },
    );
  }
}
