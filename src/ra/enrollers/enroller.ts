/**
 * The RA's enrollment seam: who may have which names signed, and what signing costs them. One
 * implementation per kind of caller, in the spirit of step-ca's provisioners; the RA's
 * orchestration asks the registry for the enroller of a principal and never looks at its kind.
 */

import type { RefusalCause } from '../../contract/refusal-cause.js';
import type { AutosignPolicy } from '../../domain/autosign.js';
import type { AuthMethod, Principal } from '../../types.js';
import type { PolicyReason } from '../failure.js';

/** What an enroller may consult besides the principal and the names. */
export interface EnrollContext {
  /** The site-wide autosign policy (ra.autosign) as it stands for this request. */
  autosign: AutosignPolicy;
}

export type EnrollDecision =
  /** Sign now. `decidedBy` is recorded on the request; `via` labels the issuance metric. */
  | { kind: 'sign'; decidedBy: string; via: 'autosign' | 'identity' }
  /** Leave the request pending for an operator. */
  | { kind: 'queue' }
  /** Refuse the request outright. */
  | {
      kind: 'refuse';
      reason: PolicyReason;
      detail: string;
      hint: string;
      field?: string;
      facts: RefusalCause;
    };

export interface Enroller {
  /** A stable name for this kind of caller (logs, tests, docs). */
  readonly kind: string;
  /** The principal methods this enroller is registered under. */
  readonly methods: readonly AuthMethod[];
  /**
   * Whether this enroller speaks for a principal of one of its methods. Several enrollers may share
   * a method (operators and host accounts both log in with passwords); the first that accepts wins.
   */
  accepts(principal: Principal): boolean;
  authorizeSign(
    principal: Principal,
    names: readonly string[],
    context: EnrollContext,
  ): Promise<EnrollDecision>;
  /**
   * Called once the decision is to sign, right before the certificate is made and stored, so a
   * limited credential is spent before anything is issued on it (parallel requests cannot
   * overspend: the spend itself is one conditional write). Throws a PolicyFailure to refuse.
   */
  onIssued?(principal: Principal): Promise<void>;
}
