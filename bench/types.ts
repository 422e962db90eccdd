/**
 * Two bench phases of issue 13 (goals 3 and 4), on the native engine with the default threads:
 *
 * `types` — the C-scaling table: ModProp (offline and online) and MDGL with type feedback at C = 2 … N cell types
 * scattered over the units (C = N: one type per unit), delayed XOR at B = 32, T = 900, N = 120 and N = 512 (T = 90
 * there with --quick). "setup ms" is one call at B = 1, T = 1: the type means, Φ and its stability check, which
 * every call pays once, and for online ModProp with C ≥ 5 the eigendecomposition of Φ (native/core/modal.h, ~30 C³
 * flops) that its modal form runs on. A call the engine refuses is listed with the reason, not timed.
 *
 * `sparse` — sparse networks (`connectivity: p`) at N = 120, 512, 1024 for bptt and online ModProp, each call timed
 * on the dense kernels (MODPROP_SPARSE=0) and on the sparse path (MODPROP_SPARSE=1, native/core/sparse.h), and the
 * crossover: the largest p at which the sparse path is faster, per N and rule (lib/connectivity.ts
 * SPARSE_CROSSOVER is chosen from it). p = 1 has no mask, so no sparse time.
 */
import { ModpropError, Network, gradients, tasks, type Batch, type RuleConfig } from '../lib/index';
import { withSparseKernels } from '../lib/connectivity';

export interface TypeRow { nRec: number; nTypes: number; steps: number; rule: string; ms: number | null; setupMs: number | null; note?: string }
export interface SparseRow { nRec: number; p: number; steps: number; rule: string; denseMs: number; sparseMs: number | null }

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
          note = `refused: ${err.message.length > 90 ? `${err.message.slice(0, 90)}…` : err.message}`;
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
    for (const p of [1, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02]) {
      const net = Network.create({ nIn: 2, nRec: n, nOut: 2, seed: 1, connectivity: p });
      for (const [label, rule] of rules) {
        const reps = quick || n > 120 ? 1 : 3;
        const denseMs = withSparseKernels('0', () => time(() => gradients(net, batch, rule), reps));
        const sparseMs = p < 1 ? withSparseKernels('1', () => time(() => gradients(net, batch, rule), reps)) : null;
        rows.push({ nRec: n, p, steps: batch.steps, rule: label, denseMs, sparseMs });
        log(`  N ${String(n).padStart(5)}  p ${String(p).padEnd(5)} ${label.padEnd(15)} dense ${denseMs.toFixed(1).padStart(9)} ms` +
          (sparseMs === null ? '' : `   sparse ${sparseMs.toFixed(1).padStart(9)} ms   ×${(denseMs / sparseMs).toFixed(2)}`));
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
    '"setup ms": one call at B = 1, T = 1 (type means, Φ, its stability check; for online ModProp with C ≥ 5 also the',
    'eigendecomposition of Φ, about 30·C³ flops on one thread, that its modal form runs on: native/core/modprop_modal.h).',
    'Online ModProp keeps C complex numbers per sequence and presynaptic unit (O(B·N·C) per step); the offline rule',
    'O(B·N + B·C²) per step: with one type per unit the offline rule is the cheaper way to the same gradient.',
  ], ['N', 'C', 'T', 'rule', 'ms', 'setup ms'], [true, true, true, false, true, true], (r) => [
    String(r.nRec), String(r.nTypes), String(r.steps), r.rule, r.ms === null ? r.note ?? '—' : r.ms.toFixed(1),
    r.setupMs === null ? '—' : r.setupMs.toFixed(2),
  ]);
}

/**
 * Per N and rule, the crossover: the largest p at which the sparse path was faster there and at every smaller p
 * measured (null: not even at the smallest), so that one noisy sample above the crossover does not move it.
 */
export function sparseCrossovers(rows: SparseRow[]): { nRec: number; rule: string; p: number | null }[] {
  const groups = new Map<string, SparseRow[]>();
  for (const r of rows) {
    if (r.sparseMs === null) continue;
    const key = `${r.nRec}|${r.rule}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    let p: number | null = null;
    for (const r of [...g].sort((a, b) => a.p - b.p)) {
      if (r.sparseMs! >= r.denseMs) break;
      p = r.p;
    }
    return { nRec: g[0].nRec, rule: g[0].rule, p };
  });
}

export function sparseLines(rows: SparseRow[] | undefined): string[] {
  const lines = table(rows, [
    'Sparse recurrent connectivity (`connectivity: p`), B = 32, native engine: each call on the dense kernels',
    '(MODPROP_SPARSE=0) and on the sparse path over the mask (MODPROP_SPARSE=1, native/core/sparse.h). "speed-up" is',
    'dense ms / sparse ms; p = 1 has no mask. By default the sparse path runs at p ≤ SPARSE_CROSSOVER and N ≥',
    'SPARSE_MIN_UNITS (lib/connectivity.ts).',
  ], ['N', 'p', 'T', 'rule', 'dense ms', 'sparse ms', 'speed-up'], [true, true, true, false, true, true, true], (r) => [
    String(r.nRec), String(r.p), String(r.steps), r.rule, r.denseMs.toFixed(1), r.sparseMs === null ? '—' : r.sparseMs.toFixed(1),
    r.sparseMs === null ? '—' : `×${(r.denseMs / r.sparseMs).toFixed(2)}`,
  ]);
  if (!rows?.length || rows.every((r) => r.sparseMs === null)) return lines;
  return [...lines, '', 'Crossover (the largest p at which the sparse path was faster, and at every smaller p):', '',
    ...sparseCrossovers(rows).map((c) => `- N = ${c.nRec}, ${c.rule}: ${c.p === null ? 'none of the p measured' : `p = ${c.p}`}`)];
}
