/** The operator's decisions on pending requests: sign one, or reject it (with a reason). */
import type { Actor, AuditSink } from '../audit/event.js';
import type { PossessionChecker } from '../ca/csr.js';
import type { Store } from '../store/certificates/store.js';
import { SerialCollisionError } from '../store/certificates/store.js';
import type { CertificateRequest, Clock } from '../types.js';
import { audited } from './audited.js';
import { readCsr } from './csr-input.js';
import { notFound, notPending } from './operator-refusals.js';
import type { RaPolicy, RequestView } from './ra-types.js';
import { type Signer, signRequest, type Triggers, veto } from './signing.js';

const MAX_SERIAL_DRAWS = 4;

export class OperatorDecisions {
  constructor(
    private readonly deps: {
      store: Store;
      signer: Signer;
      triggers: Triggers;
      clock: Clock;
      policy: () => RaPolicy;
      audit?: AuditSink | undefined;
      csrChecker?: PossessionChecker | undefined;
      observer: () => { issued(via: 'operator'): void } | undefined;
    },
  ) {}

  /** Signs a pending request named by its id or by its common name. */
  approve(idOrName: string, actor: Actor): Promise<RequestView> {
    return audited(
      this.deps,
      'request.approve',
      actor,
      idOrName,
      () => this.approveUnaudited(idOrName, actor.name),
      (v) => ({
        target: v.request.commonName,
        details: { request_id: v.request.id, serial: v.certificate?.serial },
      }),
    );
  }

  private async approveUnaudited(idOrName: string, decidedBy: string): Promise<RequestView> {
    const { store, clock } = this.deps;
    const policy = this.deps.policy();
    const request = await this.findPending(idOrName);
    const csr = await readCsr(request.csrPem, this.deps.csrChecker);
    const names = [...request.dnsNames, ...request.ipAddresses];
    const event = { commonName: request.commonName, names, requestId: request.id, requester: decidedBy };
    await veto(this.deps.triggers, { event: 'sign', phase: 'pre', ...event });
    for (let draw = 1; ; draw++) {
      const now = clock.now();
      const certificate = await signRequest(
        this.deps.signer,
        request,
        csr.spki,
        policy.leafValidityDays,
        now,
      );
      try {
        const updated = await store.approveRequest(request.id, certificate, decidedBy, now);
        if (!updated) throw notPending(idOrName);
        await this.deps.triggers.run({ event: 'sign', phase: 'post', ...event, serial: certificate.serial });
        this.deps.observer()?.issued('operator');
        return { request: updated, certificate, existing: false };
      } catch (e) {
        if (e instanceof SerialCollisionError && draw < MAX_SERIAL_DRAWS) continue;
        throw e;
      }
    }
  }

  reject(idOrName: string, actor: Actor, reason: string | null): Promise<CertificateRequest> {
    return audited(
      this.deps,
      'request.reject',
      actor,
      idOrName,
      () => this.rejectUnaudited(idOrName, actor.name, reason),
      (r) => ({
        target: r.commonName,
        details: { request_id: r.id, reason },
      }),
    );
  }

  private async rejectUnaudited(
    idOrName: string,
    decidedBy: string,
    reason: string | null,
  ): Promise<CertificateRequest> {
    const request = await this.findPending(idOrName);
    const event = {
      commonName: request.commonName,
      names: [...request.dnsNames, ...request.ipAddresses],
      requestId: request.id,
      requester: decidedBy,
      ...(reason ? { reason } : {}),
    };
    await veto(this.deps.triggers, { event: 'reject', phase: 'pre', ...event });
    const updated = await this.deps.store.rejectRequest(request.id, decidedBy, reason, this.deps.clock.now());
    if (!updated) throw notPending(idOrName);
    await this.deps.triggers.run({ event: 'reject', phase: 'post', ...event });
    return updated;
  }

  private async findPending(idOrName: string): Promise<CertificateRequest> {
    const key = idOrName.trim();
    const byId = await this.deps.store.getRequest(key);
    if (byId) {
      if (byId.state !== 'pending') throw notPending(key, byId.state);
      return byId;
    }
    const pending = await this.deps.store.listRequests({
      state: 'pending',
      commonName: key.toLowerCase(),
      limit: 2,
    });
    const first = pending[0];
    if (!first) {
      throw notFound(
        `no pending request has id or common name "${key}"`,
        'see what is waiting with `certmaster ca list --pending`',
        { kind: 'request', id: key },
      );
    }
    return first;
  }
}
