/** `npm run docs:refusals`: writes docs/refusals.md from the refusal table. */
import { writeFileSync } from 'node:fs';
import { renderRefusalsDoc } from '../src/contract/refusals-doc.js';

writeFileSync(new URL('../docs/refusals.md', import.meta.url), renderRefusalsDoc());
