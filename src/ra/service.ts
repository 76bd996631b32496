/**
 * The registration authority: decides whether a CSR may become a certificate, for whom, and when.
 * It takes its collaborators as narrow interfaces, so a test builds a real one over a real store.
 */
import type { Actor } from '../audit/event.js';
import type { AuditKind } from '../audit/types.js';
import { DEFAULT_LEAF_PROFILE, type LeafProfileName } from '../domain/leaf-profiles.js';
import { validateRequestedNames } from '../domain/names.js';
import { reservedAmong } from '../domain/reserved-names.js';
import {
  SerialCollisionError,
  SubmissionRecordError,
  SupersedeConflictError,
} from '../store/certificates/store.js';
import type { CertificateRequest, IssuedCertificate, ParsedCsr, Principal, RequestState } from '../types.js';
import { type AuditedWrite, audited } from './audited.js';
import { certificateConflict, pendingConflict } from './conflicts.js';
import { describeKey, nameHint, newRequestId, readCsr } from './csr-input.js';
import { PolicyFailure } from './failure.js';
import { checkKeyPolicy } from './key-policy.js';
import { OperatorDecisions } from './operator-decisions.js';
import type { RaDeps, RequestView } from './ra-types.js';
import { checkPresentedRenewal } from './renewal-check.js';
import { Revocations } from './revocations.js';
import { signRequest, veto } from './signing.js';

export { normalizeSerial } from './operator-refusals.js';
export type { RaPolicy, RequestView } from './ra-types.js';
export type { Signer, Triggers } from './signing.js';

export interface SubmitInput {
  csrPem: string;
  /** Who asks. Anonymous requests are signed only by the autosign policy or an operator. */
  principal: Principal;
  actor: Actor;
  /** The kind of certificate asked for (an EST label's profile); the default is tls. */
  profile?: LeafProfileName;
  /**
   * Serial of the certificate this request renews, presented by the caller (EST simplereenroll):
   * the names must be exactly that certificate's (RFC 7030 §4.2.2), and the holder may replace it
   * while it is still valid.
   */
  renews?: string;
  /**
   * POST /v1/renewals: the renewal of `renews` answers to `ra.renew_*` (window, expiry grace, new
   * key, revoke on renew) and may drop names but not add any, where EST asks for the same names.
   */
  renewal?: boolean;
  /**
   * The caller has just proved control of every name (an ACME order), so a name that holds a valid
   * certificate may get another, as ACME renewal expects (RFC 8555 §7.4 has no notion of a duplicate).
   */
  namesProven?: boolean;
}

const MAX_SERIAL_DRAWS = 4;

/** Told of every issuance and revocation (metrics); never asked anything. */
export interface RaObserver {
  issued(via: 'autosign' | 'operator' | 'identity'): void;
  revoked(reason: string): void;
  renewed(): void;
  renewalRefused(reason: string): void;
}

export class RegistrationAuthority {
  private observer: RaObserver | undefined;

  observe(observer: RaObserver): void {
    this.observer = observer;
  }

  constructor(private readonly deps: RaDeps) {
    this.revocations = new Revocations({ ...deps, observer: () => this.observer });
    this.decisions = new OperatorDecisions({ ...deps, observer: () => this.observer });
  }

  private readonly revocations: Revocations;
  private readonly decisions: OperatorDecisions;

  private audited<T>(
    kind: AuditKind,
    actor: Actor,
    target: string | null,
    action: (write: AuditedWrite<T>) => Promise<T>,
    describe: (result: T) => { target?: string; details?: Record<string, unknown> },
  ): Promise<T> {
    // Submissions (the only actions here) await write.beforeEffect before any effect but their write.
    return audited(this.deps, kind, actor, target, action, describe, { recordsInWrite: true });
  }

  get retryAfterSeconds(): number {
    return this.deps.policy().pendingRetryAfterSeconds;
  }

  submit(input: SubmitInput): Promise<RequestView> {
    return this.audited(
      'request.submit',
      input.actor,
      null,
      (write) => this.submitUnaudited(input, write),
      (view) => ({
        target: view.request.commonName,
        details: {
          request_id: view.request.id,
          state: view.request.state,
          existing: view.existing,
          names: [...view.request.dnsNames, ...view.request.ipAddresses],
          ...(view.certificate
            ? { serial: view.certificate.serial, decided_by: view.request.decidedBy }
            : {}),
        },
      }),
    );
  }

  /**
   * A host renews the certificate it presents (POST /v1/renewals): signed at once when the renewal
   * policy and the host's enroller allow it, recorded with its lineage.
   */
  async renew(input: { csrPem: string; principal: Principal; actor: Actor }): Promise<RequestView> {
    const serial = input.principal.certificate?.serial;
    try {
      const view = await this.audited<RequestView>(
        'certificate.renew',
        input.actor,
        serial ?? null,
        (write) =>
          this.submitUnaudited({ ...input, renewal: true, ...(serial ? { renews: serial } : {}) }, write),
        (v) => ({
          target: v.request.commonName,
          details: {
            request_id: v.request.id,
            state: v.request.state,
            renewed_from: serial,
            ...(v.certificate ? { serial: v.certificate.serial } : {}),
          },
        }),
      );
      if (!view.existing && view.certificate) this.observer?.renewed();
      return view;
    } catch (e) {
      if (e instanceof PolicyFailure) this.observer?.renewalRefused(e.reason);
      throw e;
    }
  }

  private async submitUnaudited(input: SubmitInput, write?: AuditedWrite<RequestView>): Promise<RequestView> {
    const csr = await readCsr(input.csrPem, this.deps.csrChecker);
    try {
      return await this.submitParsed(input, csr, write);
    } catch (e) {
      // Whatever refused it, the audit record names the host the CSR asked for, so that
      // `explain --host` finds a refusal of a key, a name or a policy (not only of a stored request).
      if (e instanceof PolicyFailure) e.askedFor(csr.commonName, [...csr.dnsNames, ...csr.ipAddresses]);
      throw e;
    }
  }

  private async submitParsed(
    input: SubmitInput,
    csr: ParsedCsr,
    write: AuditedWrite<RequestView> | undefined,
  ): Promise<RequestView> {
    const { store, clock } = this.deps;
    const policy = this.deps.policy();
    const earlierRequest = async (): Promise<RequestView | null> => {
      const earlier = await store.findRequestByCsrSha256(csr.sha256);
      return earlier && { request: earlier, certificate: await this.certificateOf(earlier), existing: true };
    };
    if (input.renewal !== true) {
      const earlier = await earlierRequest();
      if (earlier) return earlier;
    } else if (input.renews === undefined) {
      throw new PolicyFailure(
        'forbidden',
        `${input.principal.name} presented no certificate to renew`,
        'present the certificate being renewed on the TLS connection: `certmaster renew --cert cert.pem --key key.pem`',
        { facts: { code: 'certificate_required', action: 'renewal', method: input.principal.method } },
      );
    }

    checkKeyPolicy(csr.key, policy.minRsaBits);
    const names = validateRequestedNames(csr, {
      allowWildcards: policy.allowWildcards,
      maxNames: policy.maxNames,
      commonNameFromFirstDnsName: input.namesProven === true,
    });
    if (!names.ok) {
      const problems = names.problems.map((p) => ({ field: p.name, message: p.reason }));
      throw new PolicyFailure('name_invalid', problems.map((p) => p.message).join('; '), nameHint(policy), {
        field: 'names',
        problems,
        facts: {
          code: 'names_invalid',
          // Bounded like the names a record keeps (askedFor): a CSR may carry a thousand.
          names: names.problems.slice(0, 100).map((p) => p.name),
          wildcardsDisallowed: names.problems
            .filter((p) => p.wildcardDisallowed)
            .slice(0, 100)
            .map((p) => p.name),
        },
      });
    }
    const allNames = [...names.dnsNames, ...names.ipAddresses];
    if (input.renews !== undefined) {
      await checkPresentedRenewal(this.deps.store, input, {
        commonName: names.commonName,
        names: allNames,
        spki: csr.spki,
        policy: policy.renewal,
        now: this.deps.clock.now(),
      });
      // A renewal is judged before its CSR is looked up, so a CSR reused from enrollment cannot
      // answer the old certificate in place of a refusal.
      const earlier = input.renewal === true ? await earlierRequest() : null;
      if (earlier) return earlier;
    }
    const now = clock.now();
    const request: CertificateRequest = {
      id: newRequestId(),
      commonName: names.commonName,
      dnsNames: names.dnsNames,
      ipAddresses: names.ipAddresses,
      csrPem: input.csrPem.trim(),
      csrSha256: csr.sha256,
      keyDescription: describeKey(csr),
      state: 'pending',
      requester: input.principal.name,
      clientAddress: input.actor.address ?? 'local',
      createdAt: now,
      updatedAt: now,
      decidedBy: null,
      rejectionReason: null,
      serial: null,
      ...(input.profile && input.profile !== DEFAULT_LEAF_PROFILE ? { profile: input.profile } : {}),
    };
    const event = {
      commonName: request.commonName,
      names: allNames,
      requestId: request.id,
      requester: input.principal.name,
    };
    const enroller = this.deps.enrollers.forPrincipal(input.principal);
    const decision = await enroller.authorizeSign(input.principal, allNames, { autosign: policy.autosign });
    if (decision.kind === 'refuse') {
      throw new PolicyFailure(decision.reason, decision.detail, decision.hint, {
        ...(decision.field ? { field: decision.field } : {}),
        facts: decision.facts,
      });
    }
    // A trigger, or an enroller's own write, is an action: the request's record is durable first.
    const beforeEffect = write?.beforeEffect;
    await veto(this.deps.triggers, { event: 'request', phase: 'pre', ...event }, beforeEffect);

    // Reserved names wait for an operator whatever the autosign policy or the caller's identity allows.
    const reserved = reservedAmong(policy.reserved, allNames).length > 0;
    let autosign = !reserved && decision.kind === 'sign';
    // A spent credential cannot be given back: once one is spent, the certificate is committed on its
    // own, before its success record, so that a log failing in between leaves the certificate for
    // the retry to find (as the same CSR) rather than a use spent for nothing.
    const spent = autosign && enroller.onIssued !== undefined;
    if (spent && enroller.onIssued) {
      await beforeEffect?.();
      await enroller.onIssued(input.principal);
    }
    if (autosign) {
      const outcome = await this.deps.triggers.run({ event: 'sign', phase: 'pre', ...event }, beforeEffect);
      // A vetoed autosign leaves the request for an operator rather than refusing the host.
      autosign = outcome.ok;
    }

    for (let draw = 1; ; draw++) {
      const signed = autosign
        ? await signRequest(this.deps.signer, request, csr.spki, policy.leafValidityDays, now)
        : null;
      const certificate = signed && input.renews ? { ...signed, renewedFrom: input.renews } : signed;
      const supersede =
        input.renewal === true && input.renews !== undefined && policy.renewal.revokeOnRenew
          ? { serial: input.renews, reason: 'superseded' }
          : undefined;
      const toStore: CertificateRequest = certificate
        ? {
            ...request,
            state: 'issued',
            // Signed under the caller's own identity policy, or by the site-wide autosign policy.
            decidedBy: decision.kind === 'sign' ? decision.decidedBy : 'autosign',
            serial: certificate.serial,
          }
        : request;
      // Its records go in the same transaction: one commit for the request, the certificate and both records.
      const records = spent ? undefined : write?.prepare({ request: toStore, certificate, existing: false });
      try {
        const outcome = await store.submitRequest(toStore, certificate, {
          // A renewal replaces the caller's own certificate, which is still valid by definition; an
          // ACME order has just proved control of every name.
          allowDuplicateCertificates:
            policy.allowDuplicateCertificates || input.renews !== undefined || input.namesProven === true,
          now,
          ...(supersede ? { supersede } : {}),
          ...(records ? { records } : {}),
        });
        switch (outcome.kind) {
          case 'created':
            if (records && outcome.recorded) write?.written(records, outcome.recorded);
            await this.deps.triggers.run({ event: 'request', phase: 'post', ...event });
            if (certificate) {
              this.observer?.issued(decision.kind === 'sign' ? decision.via : 'autosign');
              if (supersede) this.observer?.revoked(supersede.reason);
              await this.deps.triggers.run({
                event: 'sign',
                phase: 'post',
                ...event,
                serial: certificate.serial,
              });
            }
            return { request: outcome.request, certificate: outcome.certificate, existing: false };
          case 'existing':
            return { request: outcome.request, certificate: outcome.certificate, existing: true };
          case 'conflict_pending':
            throw pendingConflict(request, outcome.existing);
          case 'conflict_certificate':
            throw certificateConflict(request, outcome.existing, csr.spki);
        }
      } catch (e) {
        if (e instanceof SerialCollisionError && draw < MAX_SERIAL_DRAWS) continue;
        if (e instanceof SubmissionRecordError && write) throw write.failed(e.cause);
        if (e instanceof SupersedeConflictError) {
          throw new PolicyFailure(
            'request_conflict',
            `certificate ${e.serial} was revoked while this renewal was being made (another renewal of it, or an operator); nothing was issued`,
            'present the certificate that replaced it, or enroll again if it was revoked by an operator',
            { facts: { code: 'renewed_certificate_revoked', serial: e.serial } },
          );
        }
        throw e;
      }
    }
  }

  async getRequest(id: string): Promise<RequestView | null> {
    const request = await this.deps.store.getRequest(id);
    if (!request) return null;
    return { request, certificate: await this.certificateOf(request), existing: false };
  }

  listRequests(state?: RequestState): Promise<CertificateRequest[]> {
    return this.deps.store.listRequests(state ? { state } : {});
  }

  /** Signs a pending request named by its id or by its common name. */
  approve(idOrName: string, actor: Actor): Promise<RequestView> {
    return this.decisions.approve(idOrName, actor);
  }

  reject(idOrName: string, actor: Actor, reason: string | null): Promise<CertificateRequest> {
    return this.decisions.reject(idOrName, actor, reason);
  }

  revoke(serialText: string, reasonText: string | undefined, actor: Actor): Promise<IssuedCertificate> {
    return this.revocations.revoke(serialText, reasonText, actor);
  }

  clean(
    commonName: string,
    actor: Actor,
  ): Promise<{ requestsRemoved: number; certificatesRevoked: string[] }> {
    return this.revocations.clean(commonName, actor);
  }

  private async certificateOf(request: CertificateRequest): Promise<IssuedCertificate | null> {
    return request.serial ? this.deps.store.getCertificate(request.serial) : null;
  }
}
