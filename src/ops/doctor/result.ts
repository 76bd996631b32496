/** What one doctor check found, and the constructors the checks build it with. */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface CheckResult {
  check: string;
  status: CheckStatus;
  message: string;
  /** What to do, for warn and fail; null when all is well. */
  fix: string | null;
}

export const DAY_MS = 86_400_000;

export function ok(check: string, message: string): CheckResult {
  return { check, status: 'ok', message, fix: null };
}
export function warn(check: string, message: string, fix: string): CheckResult {
  return { check, status: 'warn', message, fix };
}
export function fail(check: string, message: string, fix: string): CheckResult {
  return { check, status: 'fail', message, fix };
}
