/** How the CSR reader says what is wrong, naming the part of the request. */
import { children, DerError, type Tlv } from './der.js';

/** A request certmaster will not sign; `field` names the part that is wrong. */
export class CsrError extends Error {
  override name = 'CsrError';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** The children of `parent`, which must be exactly `count`. */
export function exactly(buf: Buffer, parent: Tlv, count: number, what: string): Tlv[] {
  const parts = children(buf, parent, count + 1);
  if (parts.length !== count) throw new DerError(`${what} must have ${count} elements, not ${parts.length}`);
  return parts;
}
