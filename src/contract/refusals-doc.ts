/**
 * Renders the refusal table as `docs/refusals.md`. The file is generated (`npm run docs:refusals`)
 * and `test/contract/refusals-doc.test.ts` fails when it and the table differ.
 */
import { REFUSALS, type RefusalEntry, type RefusalLayer } from './refusals.js';

const LAYERS: Record<RefusalLayer, string> = {
  auth: 'Authentication and authorization',
  oauth: 'OAuth 2 token endpoint',
  ra: 'Registration authority (policy)',
  http: 'HTTP front door',
  audit: 'Audit log',
  acme: 'ACME (RFC 8555)',
};

/** A table cell: pipes escaped, one line. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function row(reason: string, entry: RefusalEntry): string {
  const oauth = entry.oauthError === null ? '' : ` (OAuth: \`${entry.oauthError}\`)`;
  const reserved = entry.reservedFor === undefined ? '' : ` *Reserved for ${entry.reservedFor}.*`;
  return `| \`${reason}\` | ${entry.status}${oauth} | ${cell(entry.meaning)}${reserved} | ${cell(entry.title)} | ${cell(entry.remedy)} |`;
}

export function renderRefusalsDoc(): string {
  const lines = [
    '# Refusal reasons',
    '',
    '<!-- Generated from src/contract/refusals.ts by `npm run docs:refusals`; do not edit by hand. -->',
    '',
    'Every refusal certmaster answers carries one of these `reason` codes, in the problem+json body',
    '(RFC 9457) of the API or next to `error` in an OAuth 2 error (RFC 6749 §5.2). The caller is told',
    'the title, a `detail` and a `hint` for its case, and a `request_id`; it is never told whether an',
    'account exists. Every refusal has an audit record under its request id, and',
    '`certmaster explain ID` tells an operator the precise cause and the fix.',
    '',
  ];
  const entries = Object.entries(REFUSALS) as Array<[string, RefusalEntry]>;
  for (const layer of Object.keys(LAYERS) as RefusalLayer[]) {
    const rows = entries.filter(([, e]) => e.layer === layer);
    if (rows.length === 0) continue;
    lines.push(`## ${LAYERS[layer]}`, '');
    lines.push('| Code | Status | Meaning | What the caller is told | What fixes it |');
    lines.push('| --- | --- | --- | --- | --- |');
    for (const [reason, entry] of rows) lines.push(row(reason, entry));
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
