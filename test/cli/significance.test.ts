/**
 * The Mann–Whitney U permutation test of lib/cli/significance.ts against textbook values: U counted pair by pair,
 * exact two-sided p-values of small samples (all C(n, k) splits enumerated here), and samples it must not separate.
 */
import assert from 'node:assert/strict';
import { formatAdjusted, holm, mannWhitney, midRanks, type Adjusted, type UTest } from '../../lib/cli/significance';

/** Exact two-sided p of the rank-sum statistic by enumerating every split of the pooled ranks. */
function exactP(x: number[], y: number[]): number {
  const ranks = midRanks([...x, ...y]);
  const n = ranks.length;
  const k = x.length;
  const mean = (ranks.reduce((s, r) => s + r, 0) / n) * k;
  const observed = Math.abs(ranks.slice(0, k).reduce((s, r) => s + r, 0) - mean);
  let extreme = 0;
  let total = 0;
  const pick = (start: number, left: number, sum: number): void => {
    if (left === 0) {
      total++;
      if (Math.abs(sum - mean) >= observed - 1e-9) extreme++;
      return;
    }
    for (let i = start; i <= n - left; i++) pick(i + 1, left - 1, sum + ranks[i]);
  };
  pick(0, k, 0);
  return extreme / total;
}

describe('Mann–Whitney U (permutation form)', () => {
  it('mid-ranks share ties', () => {
    assert.deepEqual(midRanks([10, 20, 20, 5, Infinity, Infinity]), [2, 3.5, 3.5, 1, 5.5, 5.5]);
  });

  it('U counts the pairs where x is larger, ties ½', () => {
    const x = [3, 5, 5, 9];
    const y = [1, 5, 7];
    let u = 0;
    for (const a of x) for (const b of y) u += a > b ? 1 : a === b ? 0.5 : 0;
    assert.equal(mannWhitney(x, y, 1000).u, u);
  });

  it('matches the exact two-sided p-value within Monte Carlo error', () => {
    const cases: [number[], number[]][] = [
      [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]],
      [[120, 140, Infinity, 160, 180, 200], [300, 320, Infinity, Infinity, 260, 240]],
      [[0.1, 0.4, 0.2, 0.9], [0.3, 0.5, 0.25, 0.7, 0.8]],
    ];
    for (const [x, y] of cases) {
      const exact = exactP(x, y);
      const t = mannWhitney(x, y, 100_000);
      assert.ok(Math.abs(t.p - exact) < 0.005, `p ${t.p} vs exact ${exact}`);
    }
    assert.ok(exactP([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) < 0.01, 'separated samples are significant');
  });

  it('says no for samples from one distribution, and is deterministic', () => {
    const x = [5, 1, 4, 8, 2, 7];
    const y = [3, 6, 9, 0, 10, 4.5];
    const t = mannWhitney(x, y, 20_000);
    assert.ok(t.p > 0.3, `p = ${t.p}`);
    assert.equal(mannWhitney(x, y, 20_000).p, t.p);
  });

  describe('Holm–Bonferroni adjustment', () => {
    const tests = (ps: number[], permutations = 100_000): UTest[] => ps.map((p) => ({ u: 0, p, permutations }));
    const close = (got: Adjusted[], want: number[]): void => {
      assert.equal(got.length, want.length);
      got.forEach((g, i) => assert.ok(Math.abs(g.p - want[i]) < 1e-12, `adjusted[${i}] = ${g.p}, expected ${want[i]}`));
    };

    it('multiplies the k-th smallest p by m − k + 1 and keeps the order monotone (by hand)', () => {
      // sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → raised to 0.06 (monotone)
      close(holm(tests([0.01, 0.04, 0.03, 0.005])), [0.03, 0.06, 0.06, 0.02]);
    });

    it('caps at 1, leaves a single test alone, and handles ties', () => {
      close(holm(tests([0.6, 0.7])), [1, 1]);
      close(holm(tests([0.2])), [0.2]);
      close(holm(tests([0.02, 0.02, 0.5])), [0.06, 0.06, 0.5]);
    });

    it('treats a permutation p of 0 as the bound 1 / permutations, and says so', () => {
      let adjusted = holm(tests([0, 0.3, 0.002], 1000));
      close(adjusted, [0.003, 0.3, 0.004]);
      assert.deepEqual(adjusted.map((a) => a.bound), [true, false, false], '0.002 · 2 = 0.004 exceeds the bound 3 · 0.001: a value');
      assert.equal(formatAdjusted(adjusted[0]), '< 0.0030');
      assert.equal(formatAdjusted(adjusted[1]), '0.30');
      adjusted = holm(tests([0, 0.0012, 0.5], 1000));
      close(adjusted, [0.003, 0.003, 0.5]);
      assert.deepEqual(adjusted.map((a) => a.bound), [true, true, false], '0.0012 · 2 = 0.0024 is raised to the bound 0.003');
    });

    it('is not Bonferroni: the largest p is not multiplied', () => {
      const adjusted = holm(tests([0.001, 0.002, 0.04]));
      assert.ok(adjusted[2].p < 0.05, 'the last step of Holm keeps 0.04 significant where Bonferroni (0.12) would not');
    });
  });
});
