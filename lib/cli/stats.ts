/** Statistics over runs: curves aggregated across seeds (for plots) and the summary table of `compare`. */
import { binomialDistribution, quantile } from 'simple-statistics';
import type { CurvePoint } from '../trainTypes';

export interface Spread {
  mean: number;
  sd: number;
  min: number;
  max: number;
  n: number;
}

/** Mean, sample standard deviation (0 for one value), min and max of the finite values; undefined if there are none. */
export function spread(values: readonly (number | undefined)[]): Spread | undefined {
  const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
  if (v.length === 0) return undefined;
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  const sd = v.length > 1 ? Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
  return { mean, sd, min: Math.min(...v), max: Math.max(...v), n: v.length };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * A distribution-free confidence interval for the median of n independent values: [x(k), x(n+1−k)] of the sorted
 * values, with the largest k whose coverage 1 − 2·P(Bin(n, ½) < k) is at least `level` (the sign test's interval).
 * Undefined when even the full range [min, max] covers less than `level` (n ≤ 5 at 95 %).
 */
export function medianInterval(values: readonly number[], level = 0.95): { lo: number; hi: number; coverage: number } | undefined {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return undefined;
  const pmf = binomialDistribution(n, 0.5) as number[];
  let below = 0; // P(Bin(n, ½) < k) = P(Bin(n, ½) ≤ k − 1)
  let best: { lo: number; hi: number; coverage: number } | undefined;
  for (let k = 1; 2 * k <= n + 1; k++) {
    below += pmf[k - 1];
    const coverage = 1 - 2 * below;
    if (coverage < level) break;
    best = { lo: s[k - 1], hi: s[n - k], coverage };
  }
  return best;
}

/** The first evaluation iteration with accuracy ≥ threshold, or Infinity when never. */
export function iterationsTo(curve: readonly CurvePoint[], threshold = 0.95): number {
  const hit = curve.find((p) => p.accuracy !== undefined && p.accuracy >= threshold);
  return hit ? hit.iteration : Infinity;
}

/** Median over runs, where a run that never got there counts as Infinity (so the median can be "never"). */
export function medianIterationsTo(curves: readonly (readonly CurvePoint[])[], threshold = 0.95): { median: number; reached: number; runs: number } {
  const its = curves.map((c) => iterationsTo(c, threshold));
  return { median: its.length ? median(its) : Infinity, reached: its.filter(Number.isFinite).length, runs: its.length };
}

/** ±1 s.d. around the mean, min–max around the mean, or the interquartile range around the median. */
export type Band = 'sd' | 'minmax' | 'iqr';

export interface BandPoint {
  iteration: number;
  mean: number;
  lo: number;
  hi: number;
  n: number;
}

/** Per evaluation iteration, the mean and band of `value` over the curves that have that iteration. */
export function bandOver<T extends { iteration: number }>(curves: readonly (readonly T[])[], value: (p: T) => number | undefined, band: Band): BandPoint[] {
  const byIteration = new Map<number, (number | undefined)[]>();
  for (const c of curves) for (const p of c) {
    const list = byIteration.get(p.iteration) ?? [];
    list.push(value(p));
    byIteration.set(p.iteration, list);
  }
  const out: BandPoint[] = [];
  for (const [iteration, values] of [...byIteration].sort((a, b) => a[0] - b[0])) {
    const s = spread(values);
    if (!s) continue;
    if (band === 'iqr') {
      // A bimodal accuracy (runs at chance and runs at 100 %) has a mean ± s.d. beyond [0, 1]; quantiles stay inside.
      const v = values.filter((x): x is number => x !== undefined && Number.isFinite(x));
      out.push({ iteration, mean: quantile(v, 0.5), lo: quantile(v, 0.25), hi: quantile(v, 0.75), n: s.n });
      continue;
    }
    out.push({ iteration, mean: s.mean, lo: band === 'sd' ? s.mean - s.sd : s.min, hi: band === 'sd' ? s.mean + s.sd : s.max, n: s.n });
  }
  return out;
}

export function bandLabel(band: Band): string {
  if (band === 'iqr') return 'line: median over seeds, band: interquartile range';
  return band === 'sd' ? 'band: mean ± 1 s.d. over seeds' : 'band: min–max over seeds';
}

/** "0.123 ± 0.045" with a precision suited to the magnitude; "—" when there is nothing. */
export function meanSd(s: Spread | undefined, scale = 1, digits = 3): string {
  if (!s) return '—';
  return `${(s.mean * scale).toFixed(digits)} ± ${(s.sd * scale).toFixed(digits)}`;
}

export function markdownTable(header: string[], rows: string[][]): string {
  const escape = (c: string): string => c.replace(/\|/g, '\\|');
  const lines = [`| ${header.map(escape).join(' | ')} |`, `|${header.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.map(escape).join(' | ')} |`);
  return lines.join('\n') + '\n';
}
