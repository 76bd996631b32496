/**
 * Anonymous callers, and any caller without names of its own: the site-wide autosign policy signs
 * what it covers and everything else waits for an operator.
 */

import { autosignAllows } from '../../domain/autosign.js';
import type { Principal } from '../../types.js';
import type { EnrollContext, EnrollDecision, Enroller } from './enroller.js';

export class AutosignEnroller implements Enroller {
  readonly kind = 'autosign';
  readonly methods = ['anonymous'] as const;

  accepts(_principal: Principal): boolean {
    return true;
  }

  async authorizeSign(
    _principal: Principal,
    names: readonly string[],
    context: EnrollContext,
  ): Promise<EnrollDecision> {
    return autosignAllows(context.autosign, [...names])
      ? { kind: 'sign', decidedBy: 'autosign', via: 'autosign' }
      : { kind: 'queue' };
  }
}
