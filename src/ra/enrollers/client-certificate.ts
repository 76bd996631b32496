/**
 * A host authenticated by its client certificate (mutual TLS): it may have signed exactly the names
 * its current certificate certifies, nothing more (a subset is fine, one name more is refused). Its
 * names are literal names, not patterns: a certificate for "*.example.com" is no licence for
 * "a.example.com".
 */

import type { Principal } from '../../types.js';
import { CAUSE_NAMES } from '../failure.js';
import type { EnrollDecision, Enroller } from './enroller.js';

export class ClientCertificateEnroller implements Enroller {
  readonly kind = 'client_certificate';
  readonly methods = ['client_certificate'] as const;

  accepts(principal: Principal): boolean {
    return !principal.anonymous && principal.certificate !== undefined;
  }

  async authorizeSign(principal: Principal, names: readonly string[]): Promise<EnrollDecision> {
    const held = new Set(principal.namePatterns ?? []);
    const extra = names.filter((n) => !held.has(n));
    if (held.size > 0 && extra.length === 0) {
      return { kind: 'sign', decidedBy: `identity:${principal.name}`, via: 'identity' };
    }
    return {
      kind: 'refuse',
      reason: 'name_not_allowed',
      detail: `the certificate ${principal.certificate?.serial ?? ''} of ${principal.name} certifies ${[...held].join(', ') || 'no names'}; the request also asks for ${extra.join(', ')}`,
      hint: 'ask only for the names of the certificate you present; for other names, enroll with an account or an enrollment token that allows them',
      field: 'names',
      facts: {
        code: 'names_not_covered',
        principal: principal.name,
        by: 'presented_certificate',
        allowed: [...held].slice(0, CAUSE_NAMES),
        outside: extra.slice(0, CAUSE_NAMES),
      },
    };
  }
}
