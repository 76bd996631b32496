/**
 * Reading what an ACME client sent (RFC 8555 §7.3, §7.4): contact lists and order identifiers, checked
 * and bounded before the protocol logic sees them, and the problems that name refused identifiers.
 */
import type { AcmeIdentifier } from '../domain/acme.js';
import { isNameProblem, validateDnsName } from '../domain/names.js';
import type { PolicyFailure } from '../ra/failure.js';
import { AcmeProblem, type AcmeSubproblem, malformed } from './problem.js';

const MAX_IDENTIFIERS = 100;
const MAX_CONTACTS = 10;

export function rejected(subproblems: AcmeSubproblem[]): AcmeProblem {
  return new AcmeProblem(
    'rejectedIdentifier',
    'name_not_allowed',
    `this account may not order ${subproblems.map((s) => s.identifier.value).join(', ')}`,
    'order names the server’s policy allows, or bind the account to an enrollment token that covers them (External Account Binding)',
    { subproblems },
  );
}

export function fromPolicyFailure(e: PolicyFailure): AcmeProblem {
  const type =
    e.reason === 'csr_invalid' || e.reason === 'key_too_weak'
      ? 'badCSR'
      : e.reason === 'name_not_allowed' || e.reason === 'name_invalid'
        ? 'rejectedIdentifier'
        : 'unauthorized';
  return new AcmeProblem(type, e.reason, e.message, e.hint);
}

export function readContacts(value: unknown): string[] {
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

export function readIdentifiers(value: unknown): AcmeIdentifier[] {
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
