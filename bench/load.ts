/**
 * The load generator, run in its own process so that it never shares an event loop with the server:
 *
 *   node --import tsx bench/load.ts --target certmaster|cfssl --url URL --ca-file PEM --concurrency N
 *
 * It makes every CSR before the clock starts, warms up, then keeps N requests in flight over keep-alive
 * connections for --seconds (or until its CSRs run out), counts only certificates actually issued, checks a
 * sample of them against the CA, and prints one JSON line (a LoadResult) on stdout.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';
import { type BenchCsr, type BenchKey, makeBenchCsr, makeBenchKey } from './csr.js';

export type Target = 'certmaster' | 'cfssl';

export interface LoadResult {
  target: Target;
  concurrency: number;
  /** Certificates issued in the timed phase. */
  issued: number;
  /** Answers in the timed phase that carried no certificate (any status, or a transport error). */
  failed: number;
  seconds: number;
  perSecond: number;
  latencyMs: { p50: number; p99: number };
  warmup: { issued: number; failed: number; seconds: number };
  csrs: number;
  /** Time spent making the timed phase's CSRs, before its clock started. */
  generationSeconds: number;
  keys: number;
  /** Sampled certificates that verified against the CA and matched their CSR. */
  verified: number;
  /** The first few failures, for the report. */
  failures: string[];
}

interface Options {
  target: Target;
  url: URL;
  caPem: string;
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  maxRequests: number;
  /**
   * When the timed phase starts (ms since the epoch; after the warm-up and the CSRs are made), so that
   * several generators can time the same seconds: bench/split-servers.sh. Null: at once.
   */
  startAt: number | null;
}

/** How far ahead --start-at may be. */
const MAX_START_DELAY_MS = 60_000;

/** Generating a P-256 key costs several times more than signing a CSR; neither server cares about reuse. */
const MAX_KEYS = 1024;
const MAX_CONCURRENCY = 256;
const MAX_REQUESTS = 200_000;
const MAX_RESPONSE_BYTES = 256 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;
const SAMPLE_SIZE = 32;
const MAX_REPORTED_FAILURES = 5;

type Outcome = { ok: true; certificatePem: string } | { ok: false; reason: string };

interface Submitter {
  submit(csrPem: string): Promise<Outcome>;
  close(): void;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** certmaster answers 201 with state "issued" and the certificate when autosign signed at once. */
function certmasterOutcome(status: number, body: unknown): Outcome {
  if (status === 201 && isRecord(body) && body.state === 'issued' && typeof body.certificate === 'string') {
    return { ok: true, certificatePem: body.certificate };
  }
  const detail = isRecord(body) ? (body.reason ?? body.state ?? body.detail) : undefined;
  return { ok: false, reason: `HTTP ${status} ${String(detail ?? '')}`.trim() };
}

/** cfssl answers 200 with {"success": true, "result": {"certificate": PEM}}. */
function cfsslOutcome(status: number, body: unknown): Outcome {
  if (status === 200 && isRecord(body) && body.success === true && isRecord(body.result)) {
    const { certificate } = body.result;
    if (typeof certificate === 'string') return { ok: true, certificatePem: certificate };
  }
  const errors = isRecord(body) ? JSON.stringify(body.errors ?? '') : '';
  return { ok: false, reason: `HTTP ${status} ${errors}`.slice(0, 200) };
}

function makeSubmitter(options: Options): Submitter {
  const { url, target, concurrency } = options;
  const secure = url.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: concurrency, ca: options.caPem })
    : new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const path = target === 'certmaster' ? '/v1/requests' : '/api/v1/cfssl/sign';
  const field = target === 'certmaster' ? 'csr' : 'certificate_request';
  const interpret = target === 'certmaster' ? certmasterOutcome : cfsslOutcome;
  const send = secure ? https.request : http.request;

  const submit = (csrPem: string): Promise<Outcome> =>
    new Promise((resolve) => {
      const body = JSON.stringify({ [field]: csrPem });
      const request = send(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: 'POST',
          path,
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              response.destroy(new Error(`answer longer than ${MAX_RESPONSE_BYTES} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on('error', (e) => resolve({ ok: false, reason: e.message }));
          response.on('end', () => {
            let parsed: unknown;
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              resolve({ ok: false, reason: `HTTP ${response.statusCode} with a body that is not JSON` });
              return;
            }
            resolve(interpret(response.statusCode ?? 0, parsed));
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
      request.on('error', (e) => resolve({ ok: false, reason: e.message }));
      request.end(body);
    });

  return { submit, close: () => agent.destroy() };
}

interface PhaseResult {
  issued: number;
  failed: number;
  seconds: number;
  latenciesMs: number[];
  failures: string[];
  /** Issued certificates kept for checking, with the CSR each answers. */
  samples: Array<{ csr: BenchCsr; certificatePem: string }>;
}

/** Keeps `concurrency` requests in flight until the CSRs run out or `seconds` have passed. */
async function runPhase(
  submitter: Submitter,
  csrs: BenchCsr[],
  concurrency: number,
  seconds: number,
): Promise<PhaseResult> {
  const result: PhaseResult = {
    issued: 0,
    failed: 0,
    seconds: 0,
    latenciesMs: [],
    failures: [],
    samples: [],
  };
  const sampleEvery = Math.max(1, Math.floor(csrs.length / SAMPLE_SIZE));
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let next = 0;
  let lastAnswer = start;
  const worker = async (): Promise<void> => {
    while (next < csrs.length && performance.now() < deadline) {
      const index = next++;
      const csr = csrs[index]!;
      const sent = performance.now();
      const outcome = await submitter.submit(csr.pem);
      lastAnswer = performance.now();
      if (outcome.ok) {
        result.issued++;
        result.latenciesMs.push(lastAnswer - sent);
        if (index % sampleEvery === 0 && result.samples.length < SAMPLE_SIZE) {
          result.samples.push({ csr, certificatePem: outcome.certificatePem });
        }
      } else {
        result.failed++;
        if (result.failures.length < MAX_REPORTED_FAILURES) result.failures.push(outcome.reason);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  result.seconds = (lastAnswer - start) / 1000;
  return result;
}

/** Throws unless every sample is signed by the CA and certifies the key and name its CSR asked for. */
function verifySamples(samples: PhaseResult['samples'], caPem: string): number {
  const ca = new X509Certificate(caPem);
  for (const { csr, certificatePem } of samples) {
    const certificate = new X509Certificate(certificatePem);
    const problems = [
      certificate.verify(ca.publicKey) ? null : 'its signature does not verify with the CA key',
      certificate.checkIssued(ca) ? null : 'its issuer is not the CA',
      certificate.subject.trim() === `CN=${csr.commonName}` ? null : `its subject is ${certificate.subject}`,
      certificate.subjectAltName?.includes(`DNS:${csr.commonName}`) ? null : 'it lacks the dNSName',
      certificate.publicKey.export({ format: 'der', type: 'spki' }).equals(csr.spki)
        ? null
        : 'it certifies another key',
    ].filter((p): p is string => p !== null);
    if (problems.length > 0) {
      throw new Error(`the certificate issued for ${csr.commonName} is wrong: ${problems.join('; ')}`);
    }
  }
  return samples.length;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length));
  return Math.round(sorted[index]! * 100) / 100;
}

/** Progress on stderr: the runner shows it when this process fails or stalls. */
function progress(message: string): void {
  process.stderr.write(`load: ${message}\n`);
}

function makeCsrs(keys: BenchKey[], prefix: string, count: number): BenchCsr[] {
  return Array.from({ length: count }, (_, i) =>
    makeBenchCsr(keys[i % keys.length]!, `${prefix}-${i}.bench.example`),
  );
}

async function runLoad(options: Options): Promise<LoadResult> {
  const run = randomBytes(4).toString('hex');
  const label = `${options.target}-c${options.concurrency}-${run}`;
  const warmupCount = Math.min(options.maxRequests, Math.max(200, 25 * options.concurrency));
  const keys = Array.from({ length: Math.min(MAX_KEYS, options.maxRequests + warmupCount) }, makeBenchKey);
  const submitter = makeSubmitter(options);
  progress(`${keys.length} keys made; warming up against ${options.url.href}`);
  try {
    const warmup = await runPhase(
      submitter,
      makeCsrs(keys, `w-${label}`, warmupCount),
      options.concurrency,
      options.warmupSeconds,
    );
    if (warmup.issued === 0) {
      throw new Error(`no certificate was issued during the warm-up: ${warmup.failures.join(' | ')}`);
    }
    // Enough CSRs for the timed phase at twice the warm-up's pace (the JIT is still warming); the phase
    // ends early, and says so in `seconds`, if they run out.
    const expected = Math.ceil((warmup.issued / Math.max(warmup.seconds, 0.001)) * options.seconds * 2);
    const generating = performance.now();
    const csrs = makeCsrs(
      keys,
      `t-${label}`,
      Math.min(options.maxRequests, expected + 4 * options.concurrency),
    );
    const generationSeconds = (performance.now() - generating) / 1000;
    if (options.startAt !== null) {
      const delay = options.startAt - Date.now();
      if (delay < 0) throw new Error(`the CSRs were made ${-delay} ms after --start-at; start later`);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
    progress(
      `warm-up: ${warmup.issued} issued in ${warmup.seconds.toFixed(2)} s; ${csrs.length} CSRs made; timing`,
    );
    const timed = await runPhase(submitter, csrs, options.concurrency, options.seconds);
    progress(`timed: ${timed.issued} issued, ${timed.failed} failed in ${timed.seconds.toFixed(2)} s`);
    const verified = verifySamples([...warmup.samples.slice(0, 4), ...timed.samples], options.caPem);
    const latencies = timed.latenciesMs.sort((a, b) => a - b);
    return {
      target: options.target,
      concurrency: options.concurrency,
      issued: timed.issued,
      failed: timed.failed,
      seconds: Math.round(timed.seconds * 1000) / 1000,
      perSecond: timed.seconds > 0 ? Math.round(timed.issued / timed.seconds) : 0,
      latencyMs: { p50: percentile(latencies, 50), p99: percentile(latencies, 99) },
      warmup: {
        issued: warmup.issued,
        failed: warmup.failed,
        seconds: Math.round(warmup.seconds * 1000) / 1000,
      },
      csrs: warmupCount + csrs.length,
      generationSeconds: Math.round(generationSeconds * 1000) / 1000,
      keys: keys.length,
      verified,
      failures: [...warmup.failures, ...timed.failures].slice(0, MAX_REPORTED_FAILURES),
    };
  } finally {
    submitter.close();
  }
}

function boundedNumber(
  text: string | undefined,
  name: string,
  min: number,
  max: number,
  fallback: number,
): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new Error(`--${name} must be from ${min} to ${max}`);
  return value;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string' },
      url: { type: 'string' },
      'ca-file': { type: 'string' },
      concurrency: { type: 'string' },
      seconds: { type: 'string' },
      'warmup-seconds': { type: 'string' },
      'max-requests': { type: 'string' },
      'start-at': { type: 'string' },
    },
    strict: true,
  });
  const target = values.target;
  if (target !== 'certmaster' && target !== 'cfssl') throw new Error('--target must be certmaster or cfssl');
  if (!values.url || !values['ca-file']) throw new Error('--url and --ca-file are required');
  const url = new URL(values.url);
  // The benchmark loads only servers it started itself, on this machine.
  if (url.hostname !== '127.0.0.1') throw new Error('--url must point at 127.0.0.1');
  return {
    target,
    url,
    caPem: readFileSync(values['ca-file'], 'utf8'),
    concurrency: boundedNumber(values.concurrency, 'concurrency', 1, MAX_CONCURRENCY, 1),
    seconds: boundedNumber(values.seconds, 'seconds', 0.1, 60, 5),
    warmupSeconds: boundedNumber(values['warmup-seconds'], 'warmup-seconds', 0.1, 30, 1),
    maxRequests: boundedNumber(values['max-requests'], 'max-requests', 1, MAX_REQUESTS, 40_000),
    startAt:
      values['start-at'] === undefined
        ? null
        : boundedNumber(values['start-at'], 'start-at', Date.now(), Date.now() + MAX_START_DELAY_MS, 0),
  };
}

try {
  const options = parseOptions(process.argv.slice(2));
  progress(`started: ${options.target}, concurrency ${options.concurrency}`);
  // The runner kills a stalled load generator too, but a stall is easier to read from here.
  const startDelayMs = options.startAt === null ? 0 : options.startAt - Date.now();
  const watchdogMs =
    (options.warmupSeconds + options.seconds) * 1000 + startDelayMs + 2 * REQUEST_TIMEOUT_MS + 30_000;
  setTimeout(() => {
    progress(`still running after ${watchdogMs} ms; giving up`);
    process.exit(2);
  }, watchdogMs).unref();
  const result = await runLoad(options);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (e) {
  process.stderr.write(`load: ${(e as Error).message}\n`);
  process.exitCode = 1;
}
