/** CRLReason names and codes, RFC 5280 §5.3.1. certificateHold is left out: holds are not offered. */
export const REVOCATION_REASONS = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;

export type RevocationReason = keyof typeof REVOCATION_REASONS;

/** Accepts a reason name in any case, with or without dashes, or its number. */
export function parseRevocationReason(text: string): RevocationReason | null {
  const wanted = text
    .trim()
    .replace(/[-_\s]/g, '')
    .toLowerCase();
  for (const [name, code] of Object.entries(REVOCATION_REASONS)) {
    if (name.toLowerCase() === wanted || String(code) === wanted) return name as RevocationReason;
  }
  return null;
}
