/**
 * The refusal contract (docs/refusals.md): "Unknown user and wrong password cost the same time". Measured,
 * not assumed: two samples of verification times compared with a Mann-Whitney U test, which uses
 * ranks only and so shrugs off the odd 50 ms stall of a busy shared machine. Measurements are
 * interleaved in random order so that drift (another job starting, the CPU clocking down) falls on
 * both samples alike. A positive control shows the same procedure does tell apart a workload that
 * really differs, so the test is able to fail.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { OWASP_ARGON2, PasswordHasher } from '../../src/auth/passwords.js';

const SAMPLES = 40;
const WARMUP = 3;
const ALPHA = 0.001;
const GUESS = 'an attacker guess, wrong';

type Op = () => Promise<unknown>;

async function elapsedMs(op: Op): Promise<number> {
  const start = process.hrtime.bigint();
  await op();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

/** n timings of each, the pair's order chosen at random each round. */
async function interleaved(a: Op, b: Op, n: number): Promise<{ a: number[]; b: number[] }> {
  for (let i = 0; i < WARMUP; i++) {
    await a();
    await b();
  }
  const times = { a: [] as number[], b: [] as number[] };
  for (let i = 0; i < n; i++) {
    if (randomInt(2) === 0) {
      times.a.push(await elapsedMs(a));
      times.b.push(await elapsedMs(b));
    } else {
      times.b.push(await elapsedMs(b));
      times.a.push(await elapsedMs(a));
    }
  }
  return times;
}

/** Two-sided p-value of the Mann-Whitney U test (normal approximation with tie correction). */
function mannWhitneyP(x: number[], y: number[]): number {
  const all = [...x.map((v) => ({ v, fromX: true })), ...y.map((v) => ({ v, fromX: false }))].sort(
    (p, q) => p.v - q.v,
  );
  const n = all.length;
  let rankSumX = 0;
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && all[j + 1]!.v === all[i]!.v) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (all[k]!.fromX) rankSumX += rank;
    const t = j - i + 1;
    tieTerm += t ** 3 - t;
    i = j + 1;
  }
  const n1 = x.length;
  const n2 = y.length;
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const sd = Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
  const z = Math.max(0, Math.abs(u - mean) - 0.5) / sd;
  return erfc(z / Math.SQRT2);
}

/** Complementary error function, fractional error below 1.2e-7 (Numerical Recipes, erfcc). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

function median(values: number[]): number {
  const sorted = [...values].sort((p, q) => p - q);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function describeSamples(times: { a: number[]; b: number[] }, p: number): string {
  return `medians ${median(times.a).toFixed(2)} ms vs ${median(times.b).toFixed(2)} ms, p = ${p.toExponential(2)}`;
}

describe('timing of password verification', () => {
  it('the statistic itself: identical samples are not distinguished, shifted ones are', () => {
    const base = Array.from({ length: 40 }, (_, i) => 10 + (i % 7) * 0.1);
    assert.ok(mannWhitneyP(base, [...base].reverse()) > 0.9);
    assert.ok(
      mannWhitneyP(
        base,
        base.map((v) => v + 5),
      ) < 1e-10,
    );
    assert.ok(Math.abs(erfc(1) - 0.157299207) < 1e-7);
  });

  it('Unknown user and wrong password take the same time', async (t) => {
    const hasher = new PasswordHasher({ params: OWASP_ARGON2 });
    const realHash = await hasher.hash('the real passphrase of alice');
    const unknownUser = async () => assert.equal((await hasher.verify(null, GUESS)).ok, false);
    const wrongPassword = async () => assert.equal((await hasher.verify(realHash, GUESS)).ok, false);
    const times = await interleaved(unknownUser, wrongPassword, SAMPLES);
    const p = mannWhitneyP(times.a, times.b);
    t.diagnostic(describeSamples(times, p));
    assert.ok(
      p >= ALPHA,
      `unknown user and wrong password are distinguishable: ${describeSamples(times, p)}`,
    );
  });

  it('positive control: the same test tells apart a hash that costs twice the memory', async (t) => {
    const hasher = new PasswordHasher({ params: OWASP_ARGON2 });
    const heavier = new PasswordHasher({
      params: { ...OWASP_ARGON2, memoryKiB: 2 * OWASP_ARGON2.memoryKiB },
    });
    const normalHash = await hasher.hash('the real passphrase of alice');
    const heavyHash = await heavier.hash('the real passphrase of bob');
    // Both verified by the same hasher: argon2 takes the cost from the PHC string.
    const times = await interleaved(
      () => hasher.verify(normalHash, GUESS),
      () => hasher.verify(heavyHash, GUESS),
      SAMPLES,
    );
    const p = mannWhitneyP(times.a, times.b);
    t.diagnostic(describeSamples(times, p));
    assert.ok(p < ALPHA, `a 2x memory hash should be distinguishable: ${describeSamples(times, p)}`);
  });
});
