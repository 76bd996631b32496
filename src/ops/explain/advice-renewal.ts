/** What to do about a refused renewal (POST /v1/renewals): the ra.renew_* policy said no. */
import type { Reason } from '../../contract/refusals.js';
import type { Advisor } from './advisor.js';
import { printable } from './text.js';

type RenewalReason = Extract<Reason, `renewal_${string}`>;

export const RENEWAL_ADVISORS: Record<RenewalReason, Advisor> = {
  renewal_not_yet_open: (a) => ({
    meaning: `The host asked to renew too early${a.detail ? `: ${printable(a.detail, 300)}` : ''}.`,
    fix: 'Nothing is wrong: the host renews after the time given (`certmaster agent` waits for it). Renewing at any time needs ra.renew_window = 0.',
    command: `certmaster config get ra.renew_window ${a.local}`,
  }),
  renewal_after_expiry_refused: (a) => ({
    meaning: `The host tried to renew an expired certificate${a.detail ? `: ${printable(a.detail, 300)}` : ''}.`,
    fix: 'Give the host an enrollment token to enroll again, and run `certmaster agent` on it so it renews before expiry; ra.renew_after_expiry can allow a grace period.',
    command: `certmaster token create --enroll ${a.name} --uses 1 --ttl 1h ${a.any}`,
  }),
  renewal_names_changed: (a) => ({
    meaning: `The renewal asked for names the certificate does not hold${a.detail ? `: ${printable(a.detail, 300)}` : ''}.`,
    fix: 'Renew for the same names (`certmaster renew` does); for new names the host enrolls with an account or a token that allows them.',
    command: `certmaster token create --enroll ${a.name} --uses 1 --ttl 1h ${a.any}`,
  }),
  renewal_same_key: (a) => ({
    meaning: `The renewal reused the old key${a.detail ? `: ${printable(a.detail, 300)}` : ''}.`,
    fix: 'Renew with a new key (`certmaster renew` generates one), or allow key reuse with ra.renew_same_key = true.',
    command: `certmaster config get ra.renew_same_key ${a.local}`,
  }),
};
