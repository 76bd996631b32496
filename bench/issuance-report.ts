/** The issuance part of `npm run bench`: a line per figure as it comes, then the table and the ratios. */
import type { LoadResult } from './load.js';
import type { RawSignResult } from './raw-sign.js';
import { DISTURBED, TARGET_C1_P50_MS, TARGET_VS_CFSSL, TARGET_VS_RAW_SIGN } from './targets.js';

/** A figure, with the share of all CPU time that processes other than the benchmark's took meanwhile. */
export type Measured<T> = T & {
  othersCpu: number | null;
  /**
   * The server's CPU per certificate, all threads and the event loop alone, in µs. Unlike the rate,
   * these hardly move when other work shares the machine: they are what a change to the server changes.
   */
  serverUsPerCert?: number | null;
  loopUsPerCert?: number | null;
};

export interface Results {
  raw: Measured<RawSignResult>;
  certmaster: {
    c1: Measured<LoadResult>;
    c16: Measured<LoadResult>;
    c32: Measured<LoadResult>;
    /**
     * The same server with `server.crypto_threads 0` and `store.writer_thread false`: CSR checks, signing
     * and SQLite writes on the event loop, as before issue 11.
     */
    c1Inline: Measured<LoadResult>;
    c32Inline: Measured<LoadResult>;
  };
  cfssl: { c16: Measured<LoadResult>; c32: Measured<LoadResult> } | null;
}

export const percent = (share: number | null): string =>
  share === null ? 'n/a' : `${Math.round(share * 100)}%`;

export function report(name: string, r: Measured<LoadResult>): void {
  console.log(
    `${name}: ${r.perSecond} certificates/s (${r.issued} in ${r.seconds} s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms; ${r.verified} sampled certificates verified; other processes took ${percent(r.othersCpu)} of the CPUs)`,
  );
  if (r.failed > 0 || r.warmup.failed > 0) {
    console.log(
      `  warning: ${r.failed + r.warmup.failed} answers without a certificate: ${r.failures.join(' | ')}`,
    );
  }
}

const pad = (text: string, width: number): string => text.padEnd(width);
const padLeft = (text: string, width: number): string => text.padStart(width);

export function table(results: Results): string {
  const { raw, certmaster, cfssl } = results;
  const rows: Array<[string, Measured<{ perSecond: number }>, string]> = [
    ['raw node:crypto ECDSA P-256 sign, 1 core', raw, `${raw.signatures} signatures in ${raw.seconds} s`],
    ['certmaster c1 (HTTPS, SQLite synchronous=FULL)', certmaster.c1, detail(certmaster.c1)],
    ['certmaster c16', certmaster.c16, detail(certmaster.c16)],
    ['certmaster c32', certmaster.c32, detail(certmaster.c32)],
    ['certmaster c1, all on the event loop', certmaster.c1Inline, detail(certmaster.c1Inline)],
    ['certmaster c32, all on the event loop', certmaster.c32Inline, detail(certmaster.c32Inline)],
  ];
  if (cfssl) {
    rows.push(['cfssl serve c16 (plain HTTP, in memory)', cfssl.c16, detail(cfssl.c16)]);
    rows.push(['cfssl serve c32', cfssl.c32, detail(cfssl.c32)]);
  }
  const lines = [
    `${pad('', 48)}${padLeft('per second', 11)}${padLeft('others', 8)}`,
    ...rows.map(
      ([name, r, more]) =>
        `${pad(name, 48)}${padLeft(String(r.perSecond), 11)}${padLeft(percent(r.othersCpu), 8)}   ${more}`,
    ),
    '',
    `${pad('ratio', 48)}${padLeft('value', 11)}   target     met`,
  ];
  const c32 = certmaster.c32.perSecond;
  const c16 = certmaster.c16.perSecond;
  const ratios: Array<[string, number | null, number | null]> = [
    ['certmaster c16 / cfssl c16', cfssl ? c16 / cfssl.c16.perSecond : null, TARGET_VS_CFSSL],
    ['certmaster c32 / cfssl c32', cfssl ? c32 / cfssl.c32.perSecond : null, TARGET_VS_CFSSL],
    ['certmaster c32 / raw one-core sign', c32 / raw.perSecond, TARGET_VS_RAW_SIGN],
    ['certmaster c32: threads / all on the event loop', c32 / certmaster.c32Inline.perSecond, null],
  ];
  for (const [name, value, target] of ratios) {
    const shown = value === null ? 'n/a' : value.toFixed(3);
    if (target === null) {
      lines.push(`${pad(name, 48)}${padLeft(shown, 11)}`);
      continue;
    }
    const met = value === null ? 'n/a (no cfssl)' : value >= target ? 'yes' : 'NO';
    lines.push(`${pad(name, 48)}${padLeft(shown, 11)}   >= ${pad(String(target), 6)} ${met}`);
  }
  const p50 = certmaster.c1.latencyMs.p50;
  lines.push(
    `${pad('certmaster c1 p50 (ms)', 48)}${padLeft(String(p50), 11)}   <  ${pad(String(TARGET_C1_P50_MS), 6)} ${p50 < TARGET_C1_P50_MS ? 'yes' : 'NO'}`,
  );
  const worst = Math.max(...rows.map(([, r]) => r.othersCpu ?? 0));
  if (worst > DISTURBED) {
    lines.push(
      '',
      `warning: other processes took up to ${percent(worst)} of the CPUs during a phase ("others"); those figures are low. Run again on a quiet machine.`,
    );
  }
  return lines.join('\n');
}

function detail(r: Measured<LoadResult>): string {
  const cpu =
    r.serverUsPerCert === undefined || r.serverUsPerCert === null
      ? ''
      : `; server CPU ${r.serverUsPerCert} µs/cert, event loop ${r.loopUsPerCert} µs/cert`;
  return `${r.issued} issued in ${r.seconds} s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms${cpu}`;
}
