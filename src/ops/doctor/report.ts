/** The doctor's report: one line per check, and whether any failed. */
import type { CheckResult } from './result.js';

export function doctorFailed(results: CheckResult[]): boolean {
  return results.some((r) => r.status === 'fail');
}

/** One line per check, `ok|warn|fail  name: message`, with the fix indented below for warn and fail. */
export function renderDoctor(results: CheckResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.status.padEnd(4)}  ${r.check}: ${r.message}`);
    if (r.status !== 'ok' && r.fix !== null) {
      for (const line of r.fix.split('\n')) lines.push(`      ${line}`);
    }
  }
  const failed = results.filter((r) => r.status === 'fail').length;
  const warned = results.filter((r) => r.status === 'warn').length;
  lines.push(
    '',
    failed > 0
      ? `${failed} check${failed === 1 ? '' : 's'} failed${warned > 0 ? `, ${warned} warning${warned === 1 ? '' : 's'}` : ''}.`
      : warned > 0
        ? `No check failed; ${warned} warning${warned === 1 ? '' : 's'}.`
        : 'Every check passed.',
  );
  return `${lines.join('\n')}\n`;
}
