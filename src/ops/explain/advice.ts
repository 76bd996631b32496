/**
 * What to do about a refusal: one advisor per reason code, so the compiler refuses a reason
 * without one (`Record<Reason, Advisor>`). The advisors live by layer in advice-*.ts; each group is
 * typed by its own reasons, and this table assembles them.
 */
import type { AuditRecord } from '../../audit/types.js';
import { causeOf } from '../../contract/refusal-cause.js';
import { isReason, type Reason, statusOfReason } from '../../contract/refusals.js';
import { ACME_ADVISORS } from './advice-acme.js';
import { ENROLLMENT_ADVISORS } from './advice-enrollment.js';
import { OAUTH_ADVISORS } from './advice-oauth.js';
import { RENEWAL_ADVISORS } from './advice-renewal.js';
import { SERVER_ADVISORS } from './advice-server.js';
import { SIGN_IN_ADVISORS } from './advice-sign-in.js';
import type { Advisor } from './advisor.js';
import {
  type Advice,
  anyTarget,
  type CommandContext,
  isRoute,
  localTarget,
  printable,
  shellWord,
} from './text.js';

export type { AdviceInput, Advisor } from './advisor.js';

const ADVISORS: Record<Reason, Advisor> = {
  ...SIGN_IN_ADVISORS,
  ...ENROLLMENT_ADVISORS,
  ...OAUTH_ADVISORS,
  ...SERVER_ADVISORS,
  ...ACME_ADVISORS,
  ...RENEWAL_ADVISORS,
};

/** What to do about a refusal, from its reason code and, where the code is ambiguous, its internal cause. */
export function adviceFor(record: AuditRecord, ctx: CommandContext): Advice | null {
  const reason = record.reason;
  if (reason === null) return null;
  const cause = record.cause ?? '';
  const detail = record.told?.detail ?? '';
  const who = record.claimedName ?? record.principal;
  const target = record.target !== null && !isRoute(record.target) ? record.target : null;
  if (!isReason(reason)) {
    // A record written by another version, with a code this one does not know.
    return {
      meaning: `Refused with reason ${printable(reason, 60)}${cause ? `: ${printable(cause, 300)}` : ''}.`,
      fix: record.told?.hint ? printable(record.told.hint, 300) : 'See what the caller was told.',
      command: null,
    };
  }
  return ADVISORS[reason]({
    record,
    facts: causeOf(record.details),
    ctx,
    cause,
    detail,
    name: who === null ? 'NAME' : shellWord(who),
    shownName: who === null ? 'the caller' : printable(who, 80),
    target,
    cn: target === null ? 'NAME' : shellWord(target),
    local: localTarget(ctx),
    any: anyTarget(ctx),
  });
}

export function toldStatus(record: AuditRecord): number | null {
  if (record.told === null) return null;
  if (record.told.status > 0) return record.told.status;
  // The RA records what it told before HTTP chose a status (0); over HTTP the reason decides it.
  if (record.method === 'local' || record.reason === null) return null;
  const status = statusOfReason(record.reason);
  return status === 500 && record.reason !== 'internal_error' ? null : status;
}
