/**
 * Keeps one current CRL for every replica: rebuilt as soon as the store's revocation mark changes (a
 * revocation on any replica) and halfway to nextUpdate, published through the store so that the CRL
 * number only grows across replicas (RFC 5280 §5.2.3).
 */

import type { Clock } from '../types.js';
import { derToPem } from '../util/pem.js';
import type { CrlContents } from './crl.js';
import type { RevocationStore, StoredCrl } from './revocation-port.js';

export interface CurrentCrl extends StoredCrl {
  pem: string;
  /** A strong validator: one CRL number is one DER. */
  etag: string;
}

export interface CrlPublisherOptions {
  store: RevocationStore;
  ca: { signCrl(contents: CrlContents): Buffer };
  clock: Clock;
  /** nextUpdate - thisUpdate, read on each rebuild so a reloaded setting applies. */
  validityMs: () => number;
}

function withViews(crl: StoredCrl): CurrentCrl {
  return { ...crl, pem: derToPem(crl.der, 'X509 CRL'), etag: `"crl-${crl.crlNumber}"` };
}

/** Rebuilt halfway through its validity: an expired CRL makes relying parties refuse every certificate. */
function isAging(crl: StoredCrl, now: Date): boolean {
  const half = (crl.nextUpdate.getTime() - crl.thisUpdate.getTime()) / 2;
  return now.getTime() >= crl.thisUpdate.getTime() + half;
}

export class CrlPublisher {
  #current: CurrentCrl | null = null;
  #refreshing: Promise<CurrentCrl> | null = null;
  #timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: CrlPublisherOptions) {}

  /** The CRL to serve now; one store read when nothing changed. */
  async current(): Promise<CurrentCrl> {
    const mark = await this.options.store.revocationMark();
    const cached = this.#current;
    if (cached && cached.revocationMark === mark && !isAging(cached, this.options.clock.now())) return cached;
    this.#refreshing ??= this.#refresh(mark).finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /** The last CRL this process served or built, without asking the store. */
  lastKnown(): CurrentCrl | null {
    return this.#current;
  }

  /** Checks every `intervalMs`, so the CRL is rebuilt in time even when nobody fetches it. */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    this.#timer = setInterval(() => void this.current().catch(onError), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #refresh(mark: string): Promise<CurrentCrl> {
    const { store, clock } = this.options;
    const now = clock.now();
    const latest = await store.latestCrl();
    if (latest && latest.revocationMark === mark && !isAging(latest, now)) {
      this.#current = withViews(latest);
      return this.#current;
    }
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + this.options.validityMs());
    const crlNumber = (latest?.crlNumber ?? 0n) + 1n;
    const entries = await store.listRevokedUnexpired(now);
    const der = this.options.ca.signCrl({ crlNumber, thisUpdate, nextUpdate, entries });
    const built: StoredCrl = { crlNumber, thisUpdate, nextUpdate, revocationMark: mark, der };
    if (await store.publishCrl(built)) {
      this.#current = withViews(built);
      return this.#current;
    }
    // Another replica published this number first: serve its CRL, built from the same or a newer mark.
    const winner = await store.latestCrl();
    this.#current = withViews(winner ?? built);
    return this.#current;
  }
}
