/**
 * The ACME protocol logic (RFC 8555 §7): accounts, orders, authorizations, challenges, finalize and
 * revocation, over the store and the RA. It never signs: finalize submits the CSR to the RA under the
 * account's identity, limited to the names the order proved.
 */
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { Actor, AuditSink } from '../audit/event.js';
import type { AcmeAccount, AcmeAuthorization, AcmeOrder } from '../domain/acme.js';
import { PolicyFailure } from '../ra/failure.js';
import type { RequestView, SubmitInput } from '../ra/service.js';
import type { AcmeStore } from '../store/acme/acme-store.js';
import type { Clock, IssuedCertificate, Principal } from '../types.js';
import { type AcmeAuditKind, recordAcme } from './audit.js';
import { AcmeChallenges } from './challenges.js';
import { type EabBinding, type EabKeys, verifyEab } from './eab.js';
import { csrNames, derToCsrPem } from './finalize-csr.js';
import { fromPolicyFailure, readContacts, readIdentifiers, rejected } from './input.js';
import { publicJwk, thumbprintOf } from './jws.js';
import { type NewAccountKey, storeNewKey } from './key-change.js';
import { newId, newOrderRecords } from './new-order.js';
import type { AcmeOrderPolicy } from './order-policy.js';
import { AcmeProblem, malformed, notFound, unauthorized } from './problem.js';
import { checkNameRateLimit, checkOrderRateLimits } from './rate-limits.js';
import { revocationReason } from './revocation.js';
import type { ValidatorSettings } from './validators.js';

/** The RA as ACME needs it. */
export interface AcmeRa {
  submit(input: SubmitInput): Promise<RequestView>;
  getRequest(id: string): Promise<RequestView | null>;
  revoke(serial: string, reason: string | undefined, actor: Actor): Promise<IssuedCertificate>;
}

export interface AcmeSettings {
  validator: ValidatorSettings;
  requireEab: boolean;
  nonceLifetimeSeconds: number;
  maxNonces: number;
  ordersPerAccountPerHour: number;
  certificatesPerNamePerWeek: number;
  retryAfterSeconds: number;
}

export interface AcmeServiceDeps {
  store: AcmeStore;
  /** External Account Binding keys (enrollment tokens); none when absent. */
  eabKeys?: EabKeys;
  ra: AcmeRa;
  policy: AcmeOrderPolicy;
  settings: () => AcmeSettings;
  clock: Clock;
  audit?: AuditSink;
}

export class AcmeService {
  readonly #challenges: AcmeChallenges;

  constructor(private readonly deps: AcmeServiceDeps) {
    this.#challenges = new AcmeChallenges(deps, (...args) => this.record(...args));
  }

  async newNonce(): Promise<string> {
    const nonce = randomBytes(16).toString('base64url');
    const now = this.deps.clock.now();
    const s = this.deps.settings();
    await this.deps.store.createNonce(
      nonce,
      new Date(now.getTime() + s.nonceLifetimeSeconds * 1000),
      now,
      s.maxNonces,
    );
    return nonce;
  }

  async spendNonce(nonce: string): Promise<void> {
    if (!(await this.deps.store.consumeNonce(nonce, this.deps.clock.now()))) {
      throw new AcmeProblem(
        'badNonce',
        'acme_bad_nonce',
        'the nonce is unknown, expired or already used',
        'retry with the nonce from this answer’s Replay-Nonce header (RFC 8555 §6.5)',
      );
    }
  }

  async accountByKid(accountId: string): Promise<AcmeAccount> {
    const account = await this.deps.store.getAccount(accountId);
    if (!account) {
      throw new AcmeProblem(
        'accountDoesNotExist',
        'acme_account_unknown',
        'no account has this URL',
        'register with newAccount',
      );
    }
    if (account.status !== 'valid') {
      throw unauthorized(`the account is ${account.status}`, 'register a new account with a new key');
    }
    return account;
  }

  async findAccountByKey(jwk: JWK): Promise<AcmeAccount | null> {
    return this.deps.store.findAccountByThumbprint(await thumbprintOf(jwk));
  }

  /** RFC 8555 §7.3.4: the enrollment token a newAccount's externalAccountBinding names, verified. */
  async externalAccountBinding(value: unknown, jwk: JWK, newAccountUrl: string): Promise<EabBinding> {
    return verifyEab(value, jwk, newAccountUrl, this.deps.eabKeys ?? { find: async () => null });
  }

  /** RFC 8555 §7.3. `binding` is the enrollment token an External Account Binding named, when verified. */
  async newAccount(
    jwk: JWK,
    payload: { contact?: unknown; onlyReturnExisting?: unknown; termsOfServiceAgreed?: unknown },
    binding: { tokenId: string; namePatterns: string[] } | null,
    actor: Actor,
  ): Promise<{ account: AcmeAccount; created: boolean }> {
    const existing = await this.findAccountByKey(jwk);
    if (existing) return { account: existing, created: false };
    if (payload.onlyReturnExisting === true) {
      throw new AcmeProblem(
        'accountDoesNotExist',
        'acme_account_unknown',
        'no account is registered for this key',
        'register without onlyReturnExisting',
      );
    }
    if (binding === null && this.deps.settings().requireEab) {
      throw new AcmeProblem(
        'externalAccountRequired',
        'acme_eab_required',
        'this server requires External Account Binding (acme.require_eab)',
        'ask an operator for `certmaster token create --enroll PATTERN --acme-eab` and pass its kid and HMAC key to your client',
      );
    }
    const account: AcmeAccount = {
      id: newId(),
      thumbprint: await thumbprintOf(jwk),
      jwk: JSON.stringify(publicJwk(jwk)),
      status: 'valid',
      contact: readContacts(payload.contact),
      namePatterns: binding?.namePatterns ?? null,
      eabTokenId: binding?.tokenId ?? null,
      createdAt: this.deps.clock.now(),
    };
    const stored = await this.deps.store.createAccount(account);
    await this.record(actor, 'acme.account', stored.id, {
      created: stored.id === account.id,
      eab_token: binding?.tokenId ?? null,
    });
    return { account: stored, created: stored.id === account.id };
  }

  /**
   * RFC 8555 §7.3.5: replaces the account's key. A key already registered is refused (409 with the
   * other account's id, which the front end turns into its Location).
   */
  async changeKey(account: AcmeAccount, next: NewAccountKey, actor: Actor): Promise<AcmeAccount> {
    const updated = await storeNewKey(this.deps.store, account, next);
    await this.record(actor, 'acme.account', account.id, { key_change: next.thumbprint });
    return updated;
  }

  /** RFC 8555 §7.3.2 and §7.3.6: contact update and deactivation. */
  async updateAccount(
    account: AcmeAccount,
    payload: { contact?: unknown; status?: unknown },
    actor: Actor,
  ): Promise<AcmeAccount> {
    if (payload.status !== undefined && payload.status !== 'deactivated') {
      throw malformed(
        'an account can only be set to "deactivated"',
        'send {"status": "deactivated"} or a new contact list',
      );
    }
    const updated = await this.deps.store.updateAccount(account.id, {
      ...(payload.contact !== undefined ? { contact: readContacts(payload.contact) } : {}),
      ...(payload.status === 'deactivated' ? { status: 'deactivated' as const } : {}),
    });
    if (!updated) throw notFound('account');
    await this.record(actor, 'acme.account', account.id, { status: updated.status });
    return updated;
  }

  /** RFC 8555 §7.4. */
  async newOrder(account: AcmeAccount, payload: { identifiers?: unknown }, actor: Actor): Promise<AcmeOrder> {
    const identifiers = readIdentifiers(payload.identifiers);
    const refused = this.deps.policy.refusals(account, identifiers);
    if (refused.length > 0) {
      const problem = rejected(refused);
      await this.record(
        actor,
        'acme.refused',
        account.id,
        { names: identifiers.map((i) => i.value) },
        problem,
      );
      throw problem;
    }
    const now = this.deps.clock.now();
    try {
      await checkOrderRateLimits(this.deps.store, this.deps.settings(), account, identifiers, now);
    } catch (e) {
      if (e instanceof AcmeProblem) await this.record(actor, 'acme.refused', account.id, {}, e);
      throw e;
    }
    const { order, authorizations } = newOrderRecords(account, identifiers, now);
    await this.deps.store.createOrder(order, authorizations);
    await this.record(actor, 'acme.order', order.id, {
      account: account.id,
      names: identifiers.map((i) => i.value),
    });
    return order;
  }

  /** The order as it stands, bringing `processing` up to date with the RA request it waits on. */
  async getOrder(account: AcmeAccount, id: string): Promise<AcmeOrder> {
    const order = await this.deps.store.getOrder(id);
    if (!order || order.accountId !== account.id) throw notFound('order');
    if (order.status !== 'processing' || order.requestId === null) return order;
    const view = await this.deps.ra.getRequest(order.requestId);
    const now = this.deps.clock.now();
    if (view?.certificate) {
      return (
        (await this.deps.store.transitionOrder(id, 'processing', {
          status: 'valid',
          serial: view.certificate.serial,
          updatedAt: now,
        })) ?? order
      );
    }
    if (view?.request.state === 'rejected' || !view) {
      const error = unauthorized(
        `an operator rejected the request${view?.request.rejectionReason ? `: ${view.request.rejectionReason}` : ''}`,
        'ask the operator why',
      ).toRecord();
      return (
        (await this.deps.store.transitionOrder(id, 'processing', {
          status: 'invalid',
          error,
          updatedAt: now,
        })) ?? order
      );
    }
    return order;
  }

  async getAuthorization(id: string): Promise<AcmeAuthorization> {
    const authz = await this.deps.store.getAuthorization(id);
    if (!authz) throw notFound('authorization');
    if (authz.status === 'pending' && authz.expiresAt <= this.deps.clock.now())
      return { ...authz, status: 'expired' };
    return authz;
  }

  /** RFC 8555 §7.5.1: the client says it is ready; validation runs in the background. */
  async respondToChallenge(
    account: AcmeAccount,
    authzId: string,
    type: string,
    actor: Actor,
  ): Promise<AcmeAuthorization> {
    return this.#challenges.respond(account, await this.getAuthorization(authzId), type, actor);
  }

  /** RFC 8555 §7.4: the CSR must name exactly the order's identifiers; the RA signs. */
  async finalize(
    account: AcmeAccount,
    orderId: string,
    payload: { csr?: unknown },
    actor: Actor,
  ): Promise<AcmeOrder> {
    const order = await this.getOrder(account, orderId);
    if (order.status !== 'ready') {
      throw new AcmeProblem(
        'orderNotReady',
        'acme_order_not_ready',
        `the order is ${order.status}, not ready`,
        'complete every authorization first, then finalize once',
      );
    }
    if (typeof payload.csr !== 'string' || !/^[A-Za-z0-9_-]+$/.test(payload.csr)) {
      throw new AcmeProblem(
        'badCSR',
        'csr_invalid',
        '"csr" must be a base64url DER CSR',
        'send {"csr": base64url(DER)} (RFC 8555 §7.4)',
      );
    }
    const der = Buffer.from(payload.csr, 'base64url');
    const names = csrNames(der);
    const wanted = order.identifiers.map((i) => i.value);
    if (names.length !== wanted.length || !wanted.every((n) => names.includes(n))) {
      throw new AcmeProblem(
        'badCSR',
        'acme_csr_names_mismatch',
        `the CSR names ${names.join(', ') || 'nothing'}, the order ${wanted.join(', ')}`,
        'make the CSR for exactly the order’s identifiers',
      );
    }
    try {
      await checkNameRateLimit(
        this.deps.store,
        this.deps.settings(),
        order.identifiers,
        this.deps.clock.now(),
      );
    } catch (e) {
      if (e instanceof AcmeProblem) await this.record(actor, 'acme.refused', order.id, {}, e);
      throw e;
    }
    const processing = await this.deps.store.transitionOrder(order.id, 'ready', {
      status: 'processing',
      updatedAt: this.deps.clock.now(),
    });
    if (!processing) return this.getOrder(account, orderId);
    const principal: Principal = {
      name: `acme:${account.id}`,
      anonymous: false,
      roles: [],
      scopes: [],
      method: 'acme_account',
      // Proven by this order's challenges: the RA signs these names and no others.
      namePatterns: wanted,
    };
    const csrPem = derToCsrPem(der);
    let view: RequestView;
    try {
      view = await this.deps.ra.submit({ csrPem, principal, actor, namesProven: true });
    } catch (e) {
      const problem = e instanceof PolicyFailure ? fromPolicyFailure(e) : null;
      if (!problem) throw e;
      await this.deps.store.transitionOrder(order.id, 'processing', {
        status: 'invalid',
        error: problem.toRecord(),
        updatedAt: this.deps.clock.now(),
      });
      throw problem;
    }
    const now = this.deps.clock.now();
    const done = view.certificate
      ? await this.deps.store.transitionOrder(order.id, 'processing', {
          status: 'valid',
          requestId: view.request.id,
          serial: view.certificate.serial,
          updatedAt: now,
        })
      : await this.deps.store.transitionOrder(order.id, 'processing', {
          requestId: view.request.id,
          updatedAt: now,
        });
    return done ?? this.getOrder(account, orderId);
  }

  /** RFC 8555 §7.6; `by` is the account that signed, or null when the certificate's own key signed. */
  async revoke(
    certificate: IssuedCertificate,
    reasonCode: unknown,
    by: AcmeAccount | null,
    actor: Actor,
  ): Promise<void> {
    if (by) {
      const owned = (await this.deps.store.listOrders(by.id, 10_000)).some(
        (o) => o.serial === certificate.serial,
      );
      if (!owned)
        throw unauthorized(
          'this account did not order this certificate',
          'revoke with the account that ordered it, or sign with the certificate’s key',
        );
    }
    const reason = revocationReason(certificate, reasonCode);
    await this.deps.ra.revoke(certificate.serial, reason, actor);
  }

  /** RFC 8555 §7.1.2.1: an account's orders, newest first. */
  listOrders(account: AcmeAccount): Promise<AcmeOrder[]> {
    return this.deps.store.listOrders(account.id, 1000);
  }

  retryAfterSeconds(): number {
    return this.deps.settings().retryAfterSeconds;
  }

  /** Waits for validations this process started (shutdown). */
  drain(): Promise<void> {
    return this.#challenges.drain();
  }

  record(
    actor: Actor,
    kind: AcmeAuditKind,
    target: string,
    details: Record<string, unknown>,
    problem?: AcmeProblem,
  ): Promise<void> {
    return recordAcme(this.deps, actor, kind, target, details, problem);
  }
}
