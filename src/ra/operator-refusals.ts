/** Refusals of the operator's actions on requests and certificates, and the serial syntax they take. */
import { PolicyFailure } from './failure.js';

/** Accepts upper case and colon-separated serials as openssl prints them. */
export function normalizeSerial(text: string): string {
  const hex = text.trim().replace(/:/g, '').toLowerCase();
  if (!/^[0-9a-f]{1,40}$/.test(hex)) {
    throw new PolicyFailure(
      'invalid_argument',
      `"${text.slice(0, 60)}" is not a certificate serial`,
      'serials are hexadecimal, as `certmaster ca list --signed` shows them',
      { field: 'serial', facts: { code: 'argument_invalid', argument: 'serial', why: 'not hexadecimal' } },
    );
  }
  return hex;
}

export function notFound(
  detail: string,
  hint: string,
  what: { kind: 'token' | 'certificate' | 'request'; id: string },
): PolicyFailure {
  return new PolicyFailure('not_found', detail, hint, {
    facts: { code: 'object_unknown', kind: what.kind, id: what.id.slice(0, 255) },
  });
}

export function notPending(key: string, state?: string): PolicyFailure {
  return new PolicyFailure(
    'not_pending',
    `request ${key} is ${state ?? 'no longer pending'}; only pending requests can be signed or rejected`,
    'see its state with `certmaster ca list --all`',
    { facts: { code: 'request_not_pending', request: key.slice(0, 255), state: state ?? null } },
  );
}
