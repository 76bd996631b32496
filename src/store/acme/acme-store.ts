/**
 * What the ACME front end keeps: nonces, accounts, orders and authorizations. All of it lives in the
 * store, so a restart loses nothing and several replicas can serve one ACME client.
 */
import type {
  AcmeAccount,
  AcmeAccountStatus,
  AcmeAuthorization,
  AcmeOrder,
  AcmeOrderStatus,
} from '../../domain/acme.js';

/** An account key change to a key another account already holds (the unique thumbprint index). */
export class AcmeKeyTakenError extends Error {
  override name = 'AcmeKeyTakenError';
}

export interface AcmeStore {
  /** Records a fresh nonce; drops expired ones and, beyond `maxNonces`, the oldest. */
  createNonce(nonce: string, expiresAt: Date, now: Date, maxNonces: number): Promise<void>;
  /** Spends a nonce: true once for an unexpired nonce, false ever after (RFC 8555 §6.5). */
  consumeNonce(nonce: string, now: Date): Promise<boolean>;

  /** Inserts the account, or returns the one already registered for the same key. */
  createAccount(account: AcmeAccount): Promise<AcmeAccount>;
  getAccount(id: string): Promise<AcmeAccount | null>;
  findAccountByThumbprint(thumbprint: string): Promise<AcmeAccount | null>;
  updateAccount(
    id: string,
    patch: { status?: AcmeAccountStatus; contact?: string[]; jwk?: string; thumbprint?: string },
  ): Promise<AcmeAccount | null>;

  /** Stores an order with its authorizations in one transaction. */
  createOrder(order: AcmeOrder, authorizations: AcmeAuthorization[]): Promise<void>;
  getOrder(id: string): Promise<AcmeOrder | null>;
  /** Orders of one account, newest first, at most `limit`. */
  listOrders(accountId: string, limit: number): Promise<AcmeOrder[]>;
  /** Orders created by `accountId` since `since` (rate limits). */
  countOrdersSince(accountId: string, since: Date): Promise<number>;
  /**
   * Orders of any account that became valid since `since` and name `domain` or a name under it
   * (per-name rate limits), with the time the oldest of them became valid.
   */
  countValidOrdersUnder(domain: string, since: Date): Promise<{ count: number; oldest: Date | null }>;
  /**
   * Moves an order from `from` to the patch's status; null when the order was no longer in `from`
   * (another replica got there first).
   */
  transitionOrder(
    id: string,
    from: AcmeOrderStatus,
    patch: Partial<Pick<AcmeOrder, 'status' | 'error' | 'requestId' | 'serial'>> & { updatedAt: Date },
  ): Promise<AcmeOrder | null>;
  getAuthorization(id: string): Promise<AcmeAuthorization | null>;
  listAuthorizations(orderId: string): Promise<AcmeAuthorization[]>;
  /** Writes status and challenges when the stored row still has `expectedUpdatedAt` (compare and set). */
  saveAuthorization(authorization: AcmeAuthorization, expectedUpdatedAt: Date): Promise<boolean>;
}
