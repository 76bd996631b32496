/** Shared by the enrollers whose principals carry name patterns of their own (host accounts, tokens). */

import { type AutosignPolicy, autosignAllows, parseAutosign } from '../../domain/autosign.js';
import type { Principal } from '../../types.js';
import { CAUSE_NAMES } from '../failure.js';
import { AutosignEnroller } from './autosign.js';
import type { EnrollContext, EnrollDecision } from './enroller.js';

/** Signs exactly the names the principal's patterns cover and refuses anything else. */
export function patternDecision(principal: Principal, names: readonly string[]): EnrollDecision {
  const own = principal.namePatterns ?? [];
  let patterns: AutosignPolicy | null = null;
  try {
    patterns = parseAutosign(own.join(','));
  } catch {
    // Unparseable patterns allow nothing: fail closed.
  }
  if (patterns && autosignAllows(patterns, [...names])) {
    return { kind: 'sign', decidedBy: `identity:${principal.name}`, via: 'identity' };
  }
  return {
    kind: 'refuse',
    reason: 'name_not_allowed',
    detail: `${principal.name} may obtain certificates only for ${own.join(', ') || 'no names'}; the request asks for ${names.join(', ')}`,
    hint: 'ask for names your account or enrollment token allows, or ask an operator for a token that covers these names',
    field: 'names',
    facts: {
      code: 'names_not_covered',
      principal: principal.name,
      by: 'name_patterns',
      allowed: own.slice(0, CAUSE_NAMES),
      outside: names.filter((n) => !(patterns && autosignAllows(patterns, [n]))).slice(0, CAUSE_NAMES),
    },
  };
}

export function hasOwnNames(principal: Principal): boolean {
  return principal.namePatterns !== undefined && principal.namePatterns.length > 0;
}

const autosign = new AutosignEnroller();

/**
 * A principal with name patterns of its own gets exactly those; one without goes through the
 * autosign policy, the least privilege an anonymous caller gets.
 */
export function ownNamesOrAutosign(
  principal: Principal,
  names: readonly string[],
  context: EnrollContext,
): Promise<EnrollDecision> {
  if (hasOwnNames(principal)) return Promise.resolve(patternDecision(principal, names));
  return autosign.authorizeSign(principal, names, context);
}
