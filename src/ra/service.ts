/**
 * The registration authority: decides whether a CSR may become a certificate, for whom, and when.
 * It takes its collaborators as narrow interfaces, so a test builds a real one over a real store.
 */
import { createHash, randomBytes, X509Certificate } from 'node:crypto';
import { type Actor, type AuditSink, auditEvent } from '../audit/event.js';
import type { AuditKind } from '../audit/types.js';
import type { LeafRequest, SignedLeaf } from '../ca/authority.js';
import { CsrError, parseCsr, pemToDer } from '../ca/csr.js';
import { DEFAULT_LEAF_PROFILE, LEAF_PROFILES, type LeafProfileName } from '../ca/profiles.js';
import {
  parseRevocationReason,
  REVOCATION_REASONS,
  type RevocationReason,
} from '../ca/revocation-reasons.js';
import type { AutosignPolicy } from '../domain/autosign.js';
import { validateRequestedNames } from '../domain/names.js';
import { type ReservedNames, reservedAmong } from '../domain/reserved-names.js';
import type { Store } from '../store/certificates/store.js';
import { SerialCollisionError } from '../store/certificates/store.js';
import type {
  CertificateRequest,
  Clock,
  IssuedCertificate,
  ParsedCsr,
  Principal,
  RequestState,
} from '../types.js';
import type { EnrollerRegistry } from './enrollers/index.js';
import { PolicyFailure } from './failure.js';
import { checkKeyPolicy } from './key-policy.js';
import type { TriggerEvent, TriggerOutcome } from './triggers.js';

export interface RaPolicy {
  autosign: AutosignPolicy;
  allowWildcards: boolean;
  maxNames: number;
  minRsaBits: number;
  allowDuplicateCertificates: boolean;
  leafValidityDays: number;
  pendingRetryAfterSeconds: number;
  /** Names only an operator signs: the server's own, loopback, and `ra.reserved_names`. */
  reserved: ReservedNames;
}

export interface Signer {
  issueLeaf(req: LeafRequest): SignedLeaf;
}

export interface Triggers {
  run(event: TriggerEvent): Promise<TriggerOutcome>;
}

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
   * The caller has just proved control of every name (an ACME order), so a name that holds a valid
   * certificate may get another, as ACME renewal expects (RFC 8555 §7.4 has no notion of a duplicate).
   */
  namesProven?: boolean;
}

export interface RequestView {
  request: CertificateRequest;
  certificate: IssuedCertificate | null;
  /** True when this CSR had been submitted before and the earlier request is returned. */
  existing: boolean;
}

const MAX_SERIAL_DRAWS = 4;

/** Told of every issuance and revocation (metrics); never asked anything. */
export interface RaObserver {
  issued(via: 'autosign' | 'operator' | 'identity'): void;
  revoked(reason: string): void;
}

export class RegistrationAuthority {
  private observer: RaObserver | undefined;

  observe(observer: RaObserver): void {
    this.observer = observer;
  }

  constructor(
    private readonly deps: {
      store: Store;
      signer: Signer;
      triggers: Triggers;
      clock: Clock;
      policy: () => RaPolicy;
      /** Who may have which names signed: one enroller per kind of caller (src/ra/enrollers). */
      enrollers: EnrollerRegistry;
      audit?: AuditSink;
    },
  ) {}

  /**
   * Records the action before it happens (if that record cannot be written, nothing happens: fail
   * closed, as Vault does) and its outcome after, both under the caller's request id.
   */
  private async audited<T>(
    kind: AuditKind,
    actor: Actor,
    target: string | null,
    action: () => Promise<T>,
    describe: (result: T) => { target?: string; details?: Record<string, unknown> },
  ): Promise<T> {
    const audit = this.deps.audit;
    if (!audit) return action();
    await audit.record(auditEvent(this.deps.clock.now(), actor, kind, 'request', 'success', { target }));
    let result: T;
    try {
      result = await action();
    } catch (e) {
      if (e instanceof PolicyFailure) {
        await audit.record(
          auditEvent(this.deps.clock.now(), actor, kind, 'response', 'failure', {
            target,
            reason: e.reason,
            cause: e.internalCause,
            told: { status: e.status, detail: e.message, hint: e.hint },
            details: {
              ...(e.problems.length > 0 ? { problems: e.problems } : {}),
              ...(e.facts ? { cause: e.facts } : {}),
            },
          }),
        );
        e.recorded = true;
      }
      throw e;
    }
    const facts = describe(result);
    await audit.record(
      auditEvent(this.deps.clock.now(), actor, kind, 'response', 'success', {
        target: facts.target ?? target,
        details: facts.details ?? {},
      }),
    );
    return result;
  }

  get retryAfterSeconds(): number {
    return this.deps.policy().pendingRetryAfterSeconds;
  }

  submit(input: SubmitInput): Promise<RequestView> {
    return this.audited(
      'request.submit',
      input.actor,
      null,
      () => this.submitUnaudited(input),
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

  private async submitUnaudited(input: SubmitInput): Promise<RequestView> {
    const { store, clock } = this.deps;
    const policy = this.deps.policy();
    const csr = readCsr(input.csrPem);

    const earlier = await store.findRequestByCsrSha256(csr.sha256);
    if (earlier) return { request: earlier, certificate: await this.certificateOf(earlier), existing: true };

    checkKeyPolicy(csr.key, policy.minRsaBits);
    const names = validateRequestedNames(csr, {
      allowWildcards: policy.allowWildcards,
      maxNames: policy.maxNames,
    });
    if (!names.ok) {
      const problems = names.problems.map((p) => ({ field: p.name, message: p.reason }));
      throw new PolicyFailure('name_invalid', problems.map((p) => p.message).join('; '), nameHint(policy), {
        field: 'names',
        problems,
      });
    }
    const allNames = [...names.dnsNames, ...names.ipAddresses];
    if (input.renews !== undefined) await this.checkRenewal(input, names.commonName, allNames);
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
      throw new PolicyFailure(
        decision.reason,
        decision.detail,
        decision.hint,
        decision.field ? { field: decision.field } : {},
      );
    }
    await this.veto({ event: 'request', phase: 'pre', ...event });

    // Reserved names wait for an operator whatever the autosign policy or the caller's identity allows.
    const reserved = reservedAmong(policy.reserved, allNames).length > 0;
    let autosign = !reserved && decision.kind === 'sign';
    if (autosign) await enroller.onIssued?.(input.principal);
    if (autosign) {
      const outcome = await this.deps.triggers.run({ event: 'sign', phase: 'pre', ...event });
      // A vetoed autosign leaves the request for an operator rather than refusing the host.
      autosign = outcome.ok;
    }

    for (let draw = 1; ; draw++) {
      const certificate = autosign ? this.sign(request, csr.spki, policy, now) : null;
      const toStore: CertificateRequest = certificate
        ? {
            ...request,
            state: 'issued',
            // Signed under the caller's own identity policy, or by the site-wide autosign policy.
            decidedBy: decision.kind === 'sign' ? decision.decidedBy : 'autosign',
            serial: certificate.serial,
          }
        : request;
      try {
        const outcome = await store.submitRequest(toStore, certificate, {
          // A renewal replaces the caller's own certificate, which is still valid by definition; an
          // ACME order has just proved control of every name.
          allowDuplicateCertificates:
            policy.allowDuplicateCertificates || input.renews !== undefined || input.namesProven === true,
          now,
        });
        switch (outcome.kind) {
          case 'created':
            await this.deps.triggers.run({ event: 'request', phase: 'post', ...event });
            if (certificate) {
              this.observer?.issued(decision.kind === 'sign' ? decision.via : 'autosign');
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
            throw new PolicyFailure(
              'request_conflict',
              `a different CSR for ${request.commonName} has been waiting for approval since ${outcome.existing.createdAt.toISOString()}`,
              'wait until an operator signs or rejects the pending request, then submit again; an operator can see it with `certmaster ca list --pending`',
              {
                field: 'commonName',
                facts: {
                  code: 'request_pending',
                  name: request.commonName,
                  since: outcome.existing.createdAt.toISOString(),
                },
              },
            );
          case 'conflict_certificate':
            // The caller may be anyone: it learns only that the name is taken. The serial, expiry and
            // both keys are for the operator, who must not revoke a healthy host because a stranger asked.
            throw new PolicyFailure(
              'request_conflict',
              `${request.commonName} already holds a valid certificate for another key`,
              'if this is your host and it lost its key, ask the operator of this CA, quoting the request id',
              {
                field: 'commonName',
                cause: `${request.commonName} holds certificate ${outcome.existing.serial} (valid until ${outcome.existing.notAfter.toISOString()}) for key SHA-256 ${certificateKeyFingerprint(outcome.existing.certificatePem)}; the request's key is SHA-256 ${keyFingerprint(csr.spki)}`,
                facts: {
                  code: 'certificate_held',
                  name: request.commonName,
                  serial: outcome.existing.serial,
                  notAfter: outcome.existing.notAfter.toISOString(),
                  heldKeySha256: certificateKeyFingerprint(outcome.existing.certificatePem),
                  requestedKeySha256: keyFingerprint(csr.spki),
                },
              },
            );
        }
      } catch (e) {
        if (e instanceof SerialCollisionError && draw < MAX_SERIAL_DRAWS) continue;
        throw e;
      }
    }
  }

  /** A renewal asks for exactly the names of the certificate it renews, which the caller presented. */
  private async checkRenewal(input: SubmitInput, commonName: string, names: string[]): Promise<void> {
    const current = input.renews === undefined ? null : await this.deps.store.getCertificate(input.renews);
    if (!current || input.principal.certificate?.serial !== current.serial || current.revokedAt) {
      throw new PolicyFailure(
        'name_not_allowed',
        `certificate ${input.renews} cannot be renewed by ${input.principal.name}`,
        'present the unrevoked certificate being renewed on the TLS connection',
      );
    }
    const held = [...current.dnsNames, ...current.ipAddresses].sort();
    const asked = [...names].sort();
    if (commonName !== current.commonName || held.join(',') !== asked.join(',')) {
      throw new PolicyFailure(
        'name_not_allowed',
        `a renewal must ask for exactly the names of certificate ${current.serial} (CN ${current.commonName}; ${held.join(', ')}); the CSR asks for CN ${commonName}; ${asked.join(', ')}`,
        'make the CSR with the same subject and subjectAltName as the current certificate (RFC 7030 §4.2.2); for other names, enroll with simpleenroll',
        { field: 'names' },
      );
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
    return this.audited(
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
    const csr = readCsr(request.csrPem);
    const names = [...request.dnsNames, ...request.ipAddresses];
    const event = { commonName: request.commonName, names, requestId: request.id, requester: decidedBy };
    await this.veto({ event: 'sign', phase: 'pre', ...event });
    for (let draw = 1; ; draw++) {
      const now = clock.now();
      const certificate = this.sign(request, csr.spki, policy, now);
      try {
        const updated = await store.approveRequest(request.id, certificate, decidedBy, now);
        if (!updated) throw notPending(idOrName);
        await this.deps.triggers.run({ event: 'sign', phase: 'post', ...event, serial: certificate.serial });
        this.observer?.issued('operator');
        return { request: updated, certificate, existing: false };
      } catch (e) {
        if (e instanceof SerialCollisionError && draw < MAX_SERIAL_DRAWS) continue;
        throw e;
      }
    }
  }

  reject(idOrName: string, actor: Actor, reason: string | null): Promise<CertificateRequest> {
    return this.audited(
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
    await this.veto({ event: 'reject', phase: 'pre', ...event });
    const updated = await this.deps.store.rejectRequest(request.id, decidedBy, reason, this.deps.clock.now());
    if (!updated) throw notPending(idOrName);
    await this.deps.triggers.run({ event: 'reject', phase: 'post', ...event });
    return updated;
  }

  revoke(serialText: string, reasonText: string | undefined, actor: Actor): Promise<IssuedCertificate> {
    return this.audited(
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
        { field: 'reason' },
      );
    }
    const known = await this.deps.store.getCertificate(serial);
    if (!known)
      throw notFound(
        `no certificate has serial ${serial}`,
        'list certificates with `certmaster ca list --all`',
      );
    const event = {
      commonName: known.commonName,
      names: [...known.dnsNames, ...known.ipAddresses],
      serial,
      reason,
      requester: by,
    };
    await this.veto({ event: 'revoke', phase: 'pre', ...event });
    const revoked = await this.deps.store.revokeCertificate(serial, reason, this.deps.clock.now());
    if (revoked) this.observer?.revoked(revoked.revocationReason ?? reason);
    if (!revoked)
      throw notFound(
        `no certificate has serial ${serial}`,
        'list certificates with `certmaster ca list --all`',
      );
    await this.deps.triggers.run({ event: 'revoke', phase: 'post', ...event });
    return revoked;
  }

  clean(
    commonName: string,
    actor: Actor,
  ): Promise<{ requestsRemoved: number; certificatesRevoked: string[] }> {
    return this.audited(
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
        { field: 'name' },
      );
    }
    const event = { commonName: name, requester: by };
    await this.veto({ event: 'clean', phase: 'pre', ...event });
    const result = await this.deps.store.cleanHost(name, this.deps.clock.now());
    for (const _ of result.certificatesRevoked) this.observer?.revoked('cessationOfOperation');
    await this.deps.triggers.run({ event: 'clean', phase: 'post', ...event });
    return result;
  }

  private sign(request: CertificateRequest, spki: Buffer, policy: RaPolicy, now: Date): IssuedCertificate {
    let leaf: SignedLeaf;
    try {
      leaf = this.deps.signer.issueLeaf({
        commonName: request.commonName,
        dnsNames: request.dnsNames,
        ipAddresses: request.ipAddresses,
        spki,
        validityDays: policy.leafValidityDays,
        now,
        profile: LEAF_PROFILES[request.profile ?? DEFAULT_LEAF_PROFILE],
      });
    } catch (e) {
      throw new PolicyFailure(
        'ca_unavailable',
        (e as Error).message,
        'an operator must renew or replace the CA',
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

  private async veto(event: TriggerEvent): Promise<void> {
    const outcome = await this.deps.triggers.run(event);
    if (!outcome.ok) {
      throw new PolicyFailure(
        'request_vetoed',
        `the ${event.phase}-${event.event} trigger ${outcome.trigger} refused: ${outcome.message}`,
        'this site runs its own checks before acting; ask an operator what the trigger requires',
      );
    }
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
      );
    }
    return first;
  }

  private async certificateOf(request: CertificateRequest): Promise<IssuedCertificate | null> {
    return request.serial ? this.deps.store.getCertificate(request.serial) : null;
  }
}

function readCsr(pem: string): ParsedCsr {
  try {
    return parseCsr(pemToDer(pem, 'CERTIFICATE REQUEST'));
  } catch (e) {
    if (e instanceof CsrError) {
      throw new PolicyFailure('csr_invalid', e.message, csrHint(e.field), { field: e.field });
    }
    throw e;
  }
}

function csrHint(field: string): string {
  if (field === 'signature')
    return 'make a new CSR with the private key it names, e.g. `openssl req -new -key key.pem`';
  return 'send one PEM-encoded PKCS#10 request ("-----BEGIN CERTIFICATE REQUEST-----"), as `openssl req -new` or `certmaster request` make';
}

function describeKey(csr: ParsedCsr): string {
  switch (csr.key.kind) {
    case 'rsa':
      return `RSA ${csr.key.bits}`;
    case 'ec':
      return `EC ${csr.key.curve}`;
    case 'ed25519':
      return 'Ed25519';
    case 'ed448':
      return 'Ed448';
  }
}

function nameHint(policy: RaPolicy): string {
  return `use host names (RFC 1123: letters, digits and hyphens in dot-separated labels) or IP addresses, at most ${policy.maxNames} in all${policy.allowWildcards ? '' : ', without wildcards'}`;
}

function newRequestId(): string {
  return randomBytes(16).toString('base64url');
}

/** Accepts upper case and colon-separated serials as openssl prints them. */
export function normalizeSerial(text: string): string {
  const hex = text.trim().replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{1,40}$/.test(hex)) {
    throw new PolicyFailure(
      'invalid_argument',
      `"${text.slice(0, 60)}" is not a certificate serial`,
      'serials are hexadecimal, as `certmaster ca list --signed` shows them',
      { field: 'serial' },
    );
  }
  return hex;
}

function notFound(detail: string, hint: string): PolicyFailure {
  return new PolicyFailure('not_found', detail, hint);
}

function notPending(key: string, state?: string): PolicyFailure {
  return new PolicyFailure(
    'not_pending',
    `request ${key} is ${state ?? 'no longer pending'}; only pending requests can be signed or rejected`,
    'see its state with `certmaster ca list --all`',
  );
}

/** SHA-256 of a SubjectPublicKeyInfo, hex: what an operator compares to tell two keys apart. */
function keyFingerprint(spki: Buffer): string {
  return createHash('sha256').update(spki).digest('hex');
}

function certificateKeyFingerprint(pem: string): string {
  const spki = new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' });
  return keyFingerprint(spki);
}
