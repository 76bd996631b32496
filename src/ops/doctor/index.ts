/** `certmaster doctor`: the checks of a data directory (run.ts) and their report (report.ts). */

export { SKEW_FAIL_SECONDS, SKEW_WARN_SECONDS } from './clock.js';
export { CERTIFICATE_FAIL_DAYS, CERTIFICATE_WARN_DAYS } from './files.js';
export { doctorFailed, renderDoctor } from './report.js';
export type { CheckResult, CheckStatus } from './result.js';
export { type DoctorOptions, runDoctor } from './run.js';
