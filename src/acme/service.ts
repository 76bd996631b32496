/**
 * The ACME protocol logic (RFC 8555 §7): accounts, orders, authorizations, challenges, finalize and
 * revocation, over the store and the RA. It never signs: finalize submits the CSR to the RA under the
 * account's identity, limited to the names the order proved.
 */
import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { Actor, AuditSink } from '../audit/event.js';
import { auditEvent } from '../audit/event.js';
import { CsrError, parseCsr } from '../ca/csr.js';
import type { AcmeAccount, AcmeAuthorization, AcmeIdentifier, AcmeOrder } from '../domain/acme.js';
import { isNameProblem, validateDnsName } from '../domain/names.js';
import { PolicyFailure } from '../ra/failure.js';
import type { RequestView, SubmitInput } from '../ra/service.js';
import type { AcmeStore } from '../store/acme/acme-store.js';
import type { Clock, IssuedCertificate, Principal } from '../types.js';
import { publicJwk, thumbprintOf } from './jws.js';
import type { AcmeOrderPolicy } from './order-policy.js';
import { AcmeProblem, type AcmeSubproblem, malformed, notFound, unauthorized } from './problem.js';
import { type ValidatorSettings, validateDns01, validateHttp01 } from './validators.js';

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
  retryAfterSeconds: number;
}

export interface AcmeServiceDeps {
  store: AcmeStore;
  ra: AcmeRa;
  policy: AcmeOrderPolicy;
  settings: () => AcmeSettings;
  clock: Clock;
  audit?: AuditSink;
}

/** RFC 8555 §7.1.3: orders and authorizations expire; a week is ample for a client to finish. */
const ORDER_LIFETIME_MS = 7 * 24 * 3600 * 1000;
const MAX_IDENTIFIERS = 100;
const MAX_CONTACTS = 10;

function newId(): string {
  return randomBytes(16).toString('base64url');
}

/** RFC 5280 §5.3.1 reason codes by number, as revokeCert's `reason` gives them (RFC 8555 §7.6). */
const REVOCATION_REASON_NAMES: Record<number, string> = {
  0: 'unspecified',
  1: 'keyCompromise',
  3: 'affiliationChanged',
  4: 'superseded',
  5: 'cessationOfOperation',
};

export class AcmeService {
  /** Validations started by this process, so shutdown can wait for them. */
  readonly #inflight = new Set<Promise<void>>();

  constructor(private readonly deps: AcmeServiceDeps) {}

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
    const settings = this.deps.settings();
    const since = new Date(now.getTime() - 3600 * 1000);
    if ((await this.deps.store.countOrdersSince(account.id, since)) >= settings.ordersPerAccountPerHour) {
      const problem = new AcmeProblem(
        'rateLimited',
        'acme_rate_limited',
        `this account placed ${settings.ordersPerAccountPerHour} orders in the last hour (acme.orders_per_account_per_hour)`,
        'wait and retry after the time Retry-After gives',
        { retryAfterSeconds: 3600 },
      );
      await this.record(actor, 'acme.refused', account.id, {}, problem);
      throw problem;
    }
    const expiresAt = new Date(now.getTime() + ORDER_LIFETIME_MS);
    const orderId = newId();
    const authorizations: AcmeAuthorization[] = identifiers.map((identifier) => {
      const wildcard = identifier.value.startsWith('*.');
      return {
        id: newId(),
        orderId,
        accountId: account.id,
        identifier: { type: 'dns', value: wildcard ? identifier.value.slice(2) : identifier.value },
        wildcard,
        status: 'pending',
        token: randomBytes(32).toString('base64url'),
        // RFC 8555 §8.3: http-01 cannot prove control of a wildcard; only dns-01 is offered for one.
        challenges: (wildcard ? (['dns-01'] as const) : (['http-01', 'dns-01'] as const)).map((type) => ({
          type,
          status: 'pending' as const,
          validated: null,
          error: null,
          seen: null,
        })),
        expiresAt,
        updatedAt: now,
      };
    });
    const order: AcmeOrder = {
      id: orderId,
      accountId: account.id,
      status: 'pending',
      identifiers,
      authorizationIds: authorizations.map((a) => a.id),
      expiresAt,
      error: null,
      requestId: null,
      serial: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.store.createOrder(order, authorizations);
    await this.record(actor, 'acme.order', orderId, {
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
    const authz = await this.getAuthorization(authzId);
    if (authz.accountId !== account.id)
      throw unauthorized(
        'this authorization belongs to another account',
        'use your own order’s authorizations',
      );
    const challenge = authz.challenges.find((c) => c.type === type);
    if (!challenge) throw notFound('challenge');
    if (authz.status !== 'pending' || challenge.status !== 'pending') return authz;
    const now = this.deps.clock.now();
    const next: AcmeAuthorization = {
      ...authz,
      updatedAt: now,
      challenges: authz.challenges.map((c) =>
        c.type === type ? { ...c, status: 'processing' as const } : c,
      ),
    };
    if (!(await this.deps.store.saveAuthorization(next, authz.updatedAt)))
      return (await this.deps.store.getAuthorization(authzId)) ?? authz;
    const work = this.validate(account, next, challenge.type, actor).finally(() =>
      this.#inflight.delete(work),
    );
    this.#inflight.add(work);
    return next;
  }

  private async validate(
    account: AcmeAccount,
    authz: AcmeAuthorization,
    type: 'http-01' | 'dns-01',
    actor: Actor,
  ): Promise<void> {
    const keyAuthorization = `${authz.token}.${account.thumbprint}`;
    const settings = this.deps.settings().validator;
    const result =
      type === 'http-01'
        ? await validateHttp01(authz.identifier.value, authz.token, keyAuthorization, settings)
        : await validateDns01(authz.identifier.value, keyAuthorization, settings);
    const now = this.deps.clock.now();
    const error = result.ok
      ? null
      : new AcmeProblem(
          result.type,
          'acme_validation_failed',
          result.detail,
          'serve the key authorization as RFC 8555 §8 says',
        ).toRecord();
    const next: AcmeAuthorization = {
      ...authz,
      status: result.ok ? 'valid' : 'invalid',
      updatedAt: now,
      challenges: authz.challenges.map((c) =>
        c.type === type
          ? {
              ...c,
              status: result.ok ? 'valid' : 'invalid',
              validated: result.ok ? now : null,
              error,
              seen: result.seen,
            }
          : c,
      ),
    };
    await this.deps.store.saveAuthorization(next, authz.updatedAt);
    await this.record(actor, 'acme.challenge', authz.identifier.value, {
      order: authz.orderId,
      authorization: authz.id,
      type,
      outcome: result.ok ? 'valid' : 'invalid',
      seen: result.seen,
    });
    await this.advanceOrder(authz.orderId);
  }

  /** pending -> ready once every authorization is valid; pending -> invalid when one fails. */
  private async advanceOrder(orderId: string): Promise<void> {
    const authzs = await this.deps.store.listAuthorizations(orderId);
    const now = this.deps.clock.now();
    const failed = authzs.find((a) => a.status === 'invalid');
    if (failed) {
      const error = failed.challenges.find((c) => c.error)?.error ?? null;
      await this.deps.store.transitionOrder(orderId, 'pending', { status: 'invalid', error, updatedAt: now });
    } else if (authzs.every((a) => a.status === 'valid')) {
      await this.deps.store.transitionOrder(orderId, 'pending', { status: 'ready', updatedAt: now });
    }
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
    let names: string[];
    try {
      const csr = parseCsr(der);
      if (csr.ipAddresses.length > 0 || csr.otherNameKinds.length > 0)
        throw new CsrError('subjectAltName', 'only DNS names can be ordered');
      names = [
        ...new Set(
          [...(csr.commonName ? [csr.commonName] : []), ...csr.dnsNames].map((n) => n.toLowerCase()),
        ),
      ];
    } catch (e) {
      if (e instanceof CsrError)
        throw new AcmeProblem('badCSR', 'csr_invalid', e.message, 'make a new CSR for the order’s names');
      throw e;
    }
    const wanted = order.identifiers.map((i) => i.value);
    if (names.length !== wanted.length || !wanted.every((n) => names.includes(n))) {
      throw new AcmeProblem(
        'badCSR',
        'acme_csr_names_mismatch',
        `the CSR names ${names.join(', ') || 'nothing'}, the order ${wanted.join(', ')}`,
        'make the CSR for exactly the order’s identifiers',
      );
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
    const csrPem = `-----BEGIN CERTIFICATE REQUEST-----\n${der
      .toString('base64')
      .replace(/(.{64})/g, '$1\n')
      .trim()}\n-----END CERTIFICATE REQUEST-----\n`;
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
    if (certificate.revokedAt)
      throw new AcmeProblem(
        'alreadyRevoked',
        'acme_already_revoked',
        `certificate ${certificate.serial} is already revoked`,
        'nothing to do',
      );
    const reason = reasonCode === undefined ? 'unspecified' : REVOCATION_REASON_NAMES[reasonCode as number];
    if (reason === undefined) {
      throw new AcmeProblem(
        'badRevocationReason',
        'acme_malformed',
        `reason ${String(reasonCode)} is not accepted`,
        'use 0, 1, 3, 4 or 5 (RFC 5280 §5.3.1)',
      );
    }
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
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
  }

  async record(
    actor: Actor,
    kind: 'acme.account' | 'acme.order' | 'acme.challenge' | 'acme.refused',
    target: string,
    details: Record<string, unknown>,
    problem?: AcmeProblem,
  ): Promise<void> {
    if (!this.deps.audit) return;
    await this.deps.audit.record(
      auditEvent(this.deps.clock.now(), actor, kind, 'decision', problem ? 'failure' : 'success', {
        target,
        details,
        ...(problem
          ? {
              reason: problem.reason,
              cause: problem.message,
              told: { status: problem.status, detail: problem.message, hint: problem.hint },
            }
          : {}),
      }),
    );
  }
}

function rejected(subproblems: AcmeSubproblem[]): AcmeProblem {
  return new AcmeProblem(
    'rejectedIdentifier',
    'name_not_allowed',
    `this account may not order ${subproblems.map((s) => s.identifier.value).join(', ')}`,
    'order names the server’s policy allows, or bind the account to an enrollment token that covers them (External Account Binding)',
    { subproblems },
  );
}

function fromPolicyFailure(e: PolicyFailure): AcmeProblem {
  const type =
    e.reason === 'csr_invalid' || e.reason === 'key_too_weak'
      ? 'badCSR'
      : e.reason === 'name_not_allowed' || e.reason === 'name_invalid'
        ? 'rejectedIdentifier'
        : 'unauthorized';
  return new AcmeProblem(type, e.reason, e.message, e.hint);
}

function readContacts(value: unknown): string[] {
  if (value === undefined) return [];
  if (
    !Array.isArray(value) ||
    value.length > MAX_CONTACTS ||
    !value.every((c) => typeof c === 'string' && c.length <= 320 && /^mailto:[^\s,]+@[^\s,]+$/.test(c))
  ) {
    throw new AcmeProblem(
      'invalidContact',
      'acme_malformed',
      `"contact" must be at most ${MAX_CONTACTS} mailto: URLs`,
      'use e.g. ["mailto:ops@example.com"]',
    );
  }
  return value as string[];
}

function readIdentifiers(value: unknown): AcmeIdentifier[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IDENTIFIERS) {
    throw malformed(
      `"identifiers" must list 1 to ${MAX_IDENTIFIERS} identifiers`,
      'send {"identifiers": [{"type": "dns", "value": "host.example.com"}]}',
    );
  }
  const out: AcmeIdentifier[] = [];
  const bad: AcmeSubproblem[] = [];
  for (const item of value as unknown[]) {
    const id = item as { type?: unknown; value?: unknown };
    if (typeof id !== 'object' || id === null || id.type !== 'dns' || typeof id.value !== 'string') {
      throw new AcmeProblem(
        'unsupportedIdentifier',
        'acme_malformed',
        'only "dns" identifiers are supported',
        'order DNS names',
      );
    }
    const checked = validateDnsName(id.value, { allowWildcard: true });
    if (isNameProblem(checked)) {
      bad.push({
        type: 'rejectedIdentifier',
        detail: checked.reason,
        identifier: { type: 'dns', value: id.value.slice(0, 253) },
      });
    } else if (!out.some((o) => o.value === checked)) {
      out.push({ type: 'dns', value: checked });
    }
  }
  if (bad.length > 0) throw rejected(bad);
  return out;
}
