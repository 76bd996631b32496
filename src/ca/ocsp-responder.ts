/**
 * Answers OCSP requests. The status is read from the store on every request, so a revocation on any
 * replica is visible at once; the signature, which costs far more, is reused per CertID until the
 * status changes or the response is halfway to its nextUpdate (pre-signed responses, RFC 5019 §4).
 */

import { OCSPResponseStatus } from '@peculiar/asn1-ocsp';
import type { Clock } from '../types.js';
import {
  MALFORMED_REQUEST,
  OcspMalformedRequest,
  type OcspSigner,
  type OcspStatus,
  parseOcspRequest,
  unsignedOcspResponse,
} from './ocsp.js';

export interface OcspAnswer {
  der: Buffer;
  /** Set for a signed answer: what HTTP caching headers are derived from (RFC 5019 §6.2). */
  thisUpdate: Date | null;
  nextUpdate: Date | null;
}

interface CachedAnswer {
  serial: string;
  /** Whether the request's CertID names our CA (what `lookup` is asked only then). */
  ours: boolean;
  statusKey: string;
  signer: OcspSigner;
  refreshAt: number;
  answer: OcspAnswer;
}

export interface OcspResponderOptions {
  lookup: (serial: string) => Promise<OcspStatus>;
  signer: () => OcspSigner;
  clock: Clock;
  validityMs: () => number;
  /** Most cached responses; the oldest go first. Bounds memory whatever callers ask about. */
  cacheSize?: number;
  /** Turn caching off (the benchmark's uncached baseline). */
  cache?: boolean;
}

const DEFAULT_CACHE_SIZE = 10_000;

function statusKey(status: OcspStatus): string {
  return status.kind === 'revoked'
    ? `revoked:${status.revokedAt.getTime()}:${status.reason ?? ''}`
    : status.kind;
}

export class OcspResponder {
  readonly #cache = new Map<string, CachedAnswer>();
  readonly #cacheSize: number;

  constructor(private readonly options: OcspResponderOptions) {
    this.#cacheSize = options.cache === false ? 0 : (options.cacheSize ?? DEFAULT_CACHE_SIZE);
  }

  /** Never throws: a bad request is malformedRequest, a store failure tryLater (RFC 6960 §2.3). */
  async respond(requestDer: Buffer): Promise<OcspAnswer> {
    // A relying party sends the same bytes each time it asks about a certificate (no nonce in the
    // RFC 5019 profile): a cached answer is found by those bytes, without parsing them again.
    const key = requestDer.toString('base64');
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      const signer = this.options.signer();
      let status: OcspStatus;
      try {
        status = hit.ours ? await this.options.lookup(hit.serial) : { kind: 'unknown' };
      } catch {
        return { der: unsignedOcspResponse(OCSPResponseStatus.tryLater), thisUpdate: null, nextUpdate: null };
      }
      if (
        hit.signer === signer &&
        hit.statusKey === statusKey(status) &&
        this.options.clock.now().getTime() < hit.refreshAt
      ) {
        return hit.answer;
      }
    }
    let parsed: ReturnType<typeof parseOcspRequest>;
    try {
      parsed = parseOcspRequest(requestDer);
    } catch (error) {
      if (error instanceof OcspMalformedRequest)
        return { der: MALFORMED_REQUEST(), thisUpdate: null, nextUpdate: null };
      throw error;
    }
    const signer = this.options.signer();
    const ours = signer.issuedByOurCa(parsed.certId);
    let status: OcspStatus;
    try {
      status = ours ? await this.options.lookup(parsed.serial) : { kind: 'unknown' };
    } catch {
      return { der: unsignedOcspResponse(OCSPResponseStatus.tryLater), thisUpdate: null, nextUpdate: null };
    }
    const now = this.options.clock.now();
    const validity = this.options.validityMs();
    const thisUpdate = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const nextUpdate = new Date(thisUpdate.getTime() + validity);
    const der = signer.sign({ certId: parsed.certId, status, thisUpdate, nextUpdate, nonce: parsed.nonce });
    const answer = { der, thisUpdate, nextUpdate };
    // A nonce makes a response single-use; unknown serials are whatever a caller invents: neither is kept.
    if (parsed.nonce === null && status.kind !== 'unknown' && this.#cacheSize > 0) {
      this.#cache.delete(key);
      if (this.#cache.size >= this.#cacheSize) {
        const oldest = this.#cache.keys().next().value;
        if (oldest !== undefined) this.#cache.delete(oldest);
      }
      this.#cache.set(key, {
        serial: parsed.serial,
        ours,
        statusKey: statusKey(status),
        signer,
        refreshAt: thisUpdate.getTime() + validity / 2,
        answer,
      });
    }
    return answer;
  }
}
