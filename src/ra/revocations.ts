/** The operator's actions that end certificates: revoking one, and cleaning a host of all of its own. */
import type { Actor, AuditSink } from '../audit/event.js';
import {
  parseRevocationReason,
  REVOCATION_REASONS,
  type RevocationReason,
} from '../ca/revocation-reasons.js';
import type { Store } from '../store/certificates/store.js';
import type { Clock, IssuedCertificate } from '../types.js';
import { audited } from './audited.js';
import { PolicyFailure } from './failure.js';
import { normalizeSerial, notFound } from './operator-refusals.js';
import { type Triggers, veto } from './signing.js';

export interface RevocationObserver {
  revoked(reason: string): void;
}

export class Revocations {
  constructor(
    private readonly deps: {
      store: Store;
      triggers: Triggers;
      clock: Clock;
      audit?: AuditSink | undefined;
      observer: () => RevocationObserver | undefined;
    },
  ) {}

  revoke(serialText: string, reasonText: string | undefined, actor: Actor): Promise<IssuedCertificate> {
    return audited(
      this.deps,
      'certificate.revoke',
      actor,
      serialText,
      () => this.revokeUnaudited(serialText, reasonText, actor.name),
      (c) => ({
        target: c.serial,
        details: { common_name: c.commonName, reason: c.revocationReason },
      }),
    );
  }

  private async revokeUnaudited(
    serialText: string,
    reasonText: string | undefined,
    by: string,
  ): Promise<IssuedCertificate> {
    const serial = normalizeSerial(serialText);
    const reason: RevocationReason | null =
      reasonText === undefined ? 'unspecified' : parseRevocationReason(reasonText);
    if (!reason) {
      throw new PolicyFailure(
        'invalid_argument',
        `"${reasonText}" is not a revocation reason`,
        `use one of: ${Object.keys(REVOCATION_REASONS).join(', ')} (RFC 5280 §5.3.1)`,
        {
          field: 'reason',
          facts: { code: 'argument_invalid', argument: 'reason', why: 'not an RFC 5280 revocation reason' },
        },
      );
    }
    const known = await this.deps.store.getCertificate(serial);
    if (!known)
      throw notFound(
        `no certificate has serial ${serial}`,
        'list certificates with `certmaster ca list --all`',
        { kind: 'certificate', id: serial },
      );
    const event = {
      commonName: known.commonName,
      names: [...known.dnsNames, ...known.ipAddresses],
      serial,
      reason,
      requester: by,
    };
    await veto(this.deps.triggers, { event: 'revoke', phase: 'pre', ...event });
    const revoked = await this.deps.store.revokeCertificate(serial, reason, this.deps.clock.now());
    if (!revoked)
      throw notFound(
        `no certificate has serial ${serial}`,
        'list certificates with `certmaster ca list --all`',
        { kind: 'certificate', id: serial },
      );
    this.deps.observer()?.revoked(revoked.revocationReason ?? reason);
    await this.deps.triggers.run({ event: 'revoke', phase: 'post', ...event });
    return revoked;
  }

  clean(
    commonName: string,
    actor: Actor,
  ): Promise<{ requestsRemoved: number; certificatesRevoked: string[] }> {
    return audited(
      this.deps,
      'host.clean',
      actor,
      commonName,
      () => this.cleanUnaudited(commonName, actor.name),
      (r) => ({
        details: { requests_removed: r.requestsRemoved, certificates_revoked: r.certificatesRevoked },
      }),
    );
  }

  private async cleanUnaudited(
    commonName: string,
    by: string,
  ): Promise<{ requestsRemoved: number; certificatesRevoked: string[] }> {
    const name = commonName.trim().toLowerCase();
    if (!name || name.length > 253) {
      throw new PolicyFailure(
        'invalid_argument',
        'a host name is required',
        'give the common name to clean',
        {
          field: 'name',
          facts: { code: 'argument_invalid', argument: 'name', why: 'empty or longer than 253 characters' },
        },
      );
    }
    const event = { commonName: name, requester: by };
    await veto(this.deps.triggers, { event: 'clean', phase: 'pre', ...event });
    const result = await this.deps.store.cleanHost(name, this.deps.clock.now());
    for (const _ of result.certificatesRevoked) this.deps.observer()?.revoked('cessationOfOperation');
    await this.deps.triggers.run({ event: 'clean', phase: 'post', ...event });
    return result;
  }
}
