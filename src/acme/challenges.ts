/**
 * Challenge validation (RFC 8555 §7.5.1, §8): a client's "ready" moves a challenge to processing, the
 * validator runs in the background, and its outcome moves the authorization and then the order on.
 * Every state change is a compare-and-set in the store, so replicas racing on one challenge agree.
 */
import type { Actor } from '../audit/event.js';
import type { AcmeAccount, AcmeAuthorization } from '../domain/acme.js';
import type { AcmeStore } from '../store/acme/acme-store.js';
import type { Clock } from '../types.js';
import { AcmeProblem, notFound, unauthorized } from './problem.js';
import { type ValidatorSettings, validateDns01, validateHttp01 } from './validators.js';

/** How long a challenge answer waits for its validation before answering "processing". */
const INLINE_WAIT_MS = 2000;

/** Retry-After for a challenge still processing: validations end within seconds. */
export const CHALLENGE_RETRY_AFTER_SECONDS = 1;

export interface ChallengeDeps {
  store: AcmeStore;
  settings: () => { validator: ValidatorSettings };
  clock: Clock;
}

export type ChallengeRecorder = (
  actor: Actor,
  kind: 'acme.challenge',
  target: string,
  details: Record<string, unknown>,
) => Promise<void>;

export class AcmeChallenges {
  /** Validations started by this process, so shutdown can wait for them. */
  readonly #inflight = new Set<Promise<void>>();

  constructor(
    private readonly deps: ChallengeDeps,
    private readonly record: ChallengeRecorder,
  ) {}

  /** RFC 8555 §7.5.1: the client says it is ready; validation runs in the background. */
  async respond(
    account: AcmeAccount,
    authz: AcmeAuthorization,
    type: string,
    actor: Actor,
  ): Promise<AcmeAuthorization> {
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
      return (await this.deps.store.getAuthorization(authz.id)) ?? authz;
    const work = this.validate(account, next, challenge.type, actor).finally(() =>
      this.#inflight.delete(work),
    );
    this.#inflight.add(work);
    // Validation usually takes milliseconds: answering with its outcome spares the client a polling
    // round (lego returns at once on "valid", otherwise it waits before its first poll). A slow
    // validation still answers "processing" after INLINE_WAIT_MS, as RFC 8555 §7.5.1 allows.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      work.catch(() => undefined),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, INLINE_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
    return (await this.deps.store.getAuthorization(authz.id)) ?? next;
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

  /** Waits for validations this process started (shutdown). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.#inflight]);
  }
}
