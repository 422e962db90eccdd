/**
 * Two-sided Mann–Whitney U tests between groups of runs, as a permutation test: the pooled values are replaced by
 * their mid-ranks and simple-statistics' `permutationTest` compares the groups' mean ranks (a monotone function of U)
 * over seeded random relabellings. It needs no normal approximation, handles ties (runs that never reached 95 % tie
 * at +∞) and gives the same p-value for the same inputs every time.
 */
import { permutationTest } from 'simple-statistics';
import { Random } from '../random';

export const PERMUTATIONS = 100_000;

/** Ranks 1..n of the values, ties sharing their mean rank. */
export function midRanks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => (a.v === b.v ? 0 : a.v < b.v ? -1 : 1));
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length;) {
    let end = start;
    while (end + 1 < order.length && order[end + 1].v === order[start].v) end++;
    for (let k = start; k <= end; k++) ranks[order[k].i] = (start + end) / 2 + 1;
    start = end + 1;
  }
  return ranks;
}

export interface UTest {
  /** Mann–Whitney U of the first group: how many (x, y) pairs have x > y, ties counting ½. */
  u: number;
  /** Two-sided p-value (fraction of relabellings at least as extreme); 0 means below 1 / permutations. */
  p: number;
  permutations: number;
}

/** Two-sided Mann–Whitney U test of x against y (non-finite values rank as +∞). */
export function mannWhitney(x: readonly number[], y: readonly number[], permutations = PERMUTATIONS, seed = 1): UTest {
  const ranks = midRanks([...x, ...y].map((v) => (Number.isNaN(v) ? Infinity : v)));
  const rx = ranks.slice(0, x.length);
  const u = rx.reduce((s, r) => s + r, 0) - (x.length * (x.length + 1)) / 2;
  const rng = new Random(seed, 0x5eed);
  const p = permutationTest(rx, ranks.slice(x.length), 'two_side', permutations, () => rng.uniform());
  return { u, p, permutations };
}

/** "0.003", "< 1e-5" (none of the relabellings was as extreme), two significant digits below 0.01. */
export function formatP(t: UTest): string {
  if (t.p === 0) return `< ${(1 / t.permutations).toExponential(0)}`;
  return t.p >= 0.01 ? t.p.toFixed(2) : t.p.toPrecision(2);
}

/** A Holm-adjusted p-value; `bound`: it rests on a permutation p of 0, so the true value is below it. */
export interface Adjusted {
  p: number;
  bound: boolean;
}

/**
 * Holm–Bonferroni adjusted p-values of one family of tests, in the order given: with p sorted ascending,
 * p̃(i) = max over j ≤ i of min(1, (m − j + 1) · p(j)). A permutation p of 0 only says "below 1 / permutations", so it
 * enters as that bound and the adjusted values resting on it are marked as bounds, never an unearned 0.
 */
export function holm(tests: readonly UTest[]): Adjusted[] {
  const m = tests.length;
  const p = tests.map((t) => Math.max(t.p, 1 / t.permutations));
  const order = p.map((_, i) => i).sort((a, b) => p[a] - p[b] || a - b);
  const adjusted = new Array<Adjusted>(m);
  let running: Adjusted = { p: 0, bound: false };
  order.forEach((i, rank) => {
    const here = Math.min(1, (m - rank) * p[i]);
    if (here >= running.p) running = { p: here, bound: tests[i].p === 0 && here < 1 };
    adjusted[i] = running;
  });
  return adjusted;
}

/** An adjusted p-value as `formatP` writes a raw one ("< x" for a bound). */
export function formatAdjusted(a: Adjusted): string {
  const text = a.p >= 0.01 ? a.p.toFixed(2) : a.p.toPrecision(2);
  return a.bound ? `< ${text}` : text;
}
