/**
 * Two bench phases of issue 13 (goals 3 and 4), on the native engine with the default threads:
 *
 * `types` — the C-scaling table: ModProp (offline and online) and MDGL with type feedback at C = 2 … N cell types
 * scattered over the units (C = N: one type per unit), delayed XOR at B = 32, T = 900, N = 120 and N = 512 (T = 90
 * there with --quick). "setup ms" is one call at B = 1, T = 1: the type means, Φ and its stability check, which
 * every call pays once. Online ModProp above lib/filter.ts ONLINE_FILTER_WORK is refused, not timed.
 *
 * `sparse` — the dense kernels on sparse networks (`connectivity: p`) at N = 120, 512, 1024 for bptt and online
 * ModProp. There are no sparse kernels yet, so "sparse ms" is empty and no crossover is claimed: the table is the
 * dense baseline a sparse path has to beat at each p.
 */
import { ModpropError, Network, gradients, tasks, type Batch, type RuleConfig } from '../lib/index';

export interface TypeRow { nRec: number; nTypes: number; steps: number; rule: string; ms: number | null; setupMs: number | null; note?: string }
export interface SparseRow { nRec: number; p: number; steps: number; rule: string; denseMs: number; sparseMs: null }

const RULES: [string, RuleConfig][] = [
  ['modprop', { rule: 'modprop', mu: 0.1 }], ['modprop online', { rule: 'modprop', mu: 0.1, online: true }], ['mdgl', { rule: 'mdgl' }],
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median ms of `reps` calls after one warm-up call. */
function time(fn: () => void, reps: number): number {
  fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  return median(ms);
}

function typedNet(nIn: number, nRec: number, nOut: number, nTypes: number): Network {
  return Network.create({
    nIn, nRec, nOut, seed: 1,
    cellTypes: Array.from({ length: nRec }, (_, i) => (i * 7) % nTypes),
    typeSigns: Array.from({ length: nTypes }, (_, c) => (c % 5 === 0 ? -1 : 1)),
  });
}

function batchOf(steps: number, batchSize: number): Batch {
  const task = tasks.delayedXor(steps >= 900 ? {} : { cueSteps: 10, delaySteps: Math.max(1, steps - 20) });
  return task.sample(batchSize, 1);
}

export function runTypeScaling(quick: boolean, log: (line: string) => void): TypeRow[] {
  const rows: TypeRow[] = [];
  const sizes: [number, number[], number][] = [[120, [2, 4, 8, 16, 32, 64, 120], 900], [512, [2, 8, 32, 128, 512], quick ? 90 : 900]];
  for (const [n, cs, steps] of sizes) {
    const batch = batchOf(steps, 32);
    const one = batchOf(steps, 1);
    const setupBatch: Batch = { ...one, x: one.x.subarray(0, one.x.length / one.steps), steps: 1 };
    for (const c of cs) {
      const net = typedNet(2, n, 2, c);
      for (const [label, rule] of RULES) {
        let ms: number | null = null;
        let setupMs: number | null = null;
        let note: string | undefined;
        try {
          setupMs = time(() => gradients(net, setupBatch, rule), quick ? 1 : 3);
          ms = time(() => gradients(net, batch, rule), quick || n > 120 ? 1 : 3);
        } catch (err) {
          if (!(err instanceof ModpropError)) throw err;
          note = 'refused (online filter cost)';
        }
        rows.push({ nRec: n, nTypes: c, steps: batch.steps, rule: label, ms, setupMs, note });
        log(`  N ${String(n).padStart(4)}  C ${String(c).padStart(4)}  ${label.padEnd(15)} ${ms === null ? note : `${ms.toFixed(1).padStart(9)} ms`}   setup ${setupMs === null ? '—' : `${setupMs.toFixed(2)} ms`}`);
      }
    }
  }
  return rows;
}

export function runSparse(quick: boolean, log: (line: string) => void): SparseRow[] {
  const rows: SparseRow[] = [];
  const rules: [string, RuleConfig][] = [['bptt', { rule: 'bptt' }], ['modprop online', { rule: 'modprop', mu: 0.1, online: true }]];
  for (const n of [120, 512, 1024]) {
    const steps = quick || n > 512 ? 90 : 900;
    const batch = batchOf(steps, 32);
    for (const p of [1, 0.5, 0.2, 0.1, 0.05]) {
      const net = Network.create({ nIn: 2, nRec: n, nOut: 2, seed: 1, connectivity: p });
      for (const [label, rule] of rules) {
        const denseMs = time(() => gradients(net, batch, rule), quick || n > 120 ? 1 : 3);
        rows.push({ nRec: n, p, steps: batch.steps, rule: label, denseMs, sparseMs: null });
        log(`  N ${String(n).padStart(5)}  p ${String(p).padEnd(5)} ${label.padEnd(15)} dense ${denseMs.toFixed(1).padStart(9)} ms`);
      }
    }
  }
  return rows;
}

/** A markdown table under its explanation, or the note that the phase did not run. */
function table<R>(rows: R[] | undefined, intro: string[], header: string[], right: boolean[], cells: (r: R) => string[]): string[] {
  if (!rows?.length) return ['Not measured in this run (`--phases`).'];
  const line = (xs: string[]): string => `| ${xs.join(' | ')} |`;
  return [...intro, '', line(header), `|${right.map((r) => (r ? '---:' : '---')).join('|')}|`, ...rows.map((r) => line(cells(r)))];
}

export function typeScalingLines(rows: TypeRow[] | undefined): string[] {
  return table(rows, [
    'Type feedback with C cell types scattered over the units (C = N: one per unit), delayed XOR, B = 32, native engine.',
    '"setup ms": one call at B = 1, T = 1 (type means, Φ, its stability check).',
  ], ['N', 'C', 'T', 'rule', 'ms', 'setup ms'], [true, true, true, false, true, true], (r) => [
    String(r.nRec), String(r.nTypes), String(r.steps), r.rule, r.ms === null ? r.note ?? '—' : r.ms.toFixed(1),
    r.setupMs === null ? '—' : r.setupMs.toFixed(2),
  ]);
}

export function sparseLines(rows: SparseRow[] | undefined): string[] {
  return table(rows, [
    'Sparse recurrent connectivity (`connectivity: p`), B = 32, native engine. No sparse kernels exist yet: the dense',
    'kernels run on the masked Wrec, so "sparse ms" is empty and no crossover is claimed.',
  ], ['N', 'p', 'T', 'rule', 'dense ms', 'sparse ms', 'crossover'], [true, true, true, false, true, true, false], (r) => [
    String(r.nRec), String(r.p), String(r.steps), r.rule, r.denseMs.toFixed(1), '—', '—',
  ]);
}
