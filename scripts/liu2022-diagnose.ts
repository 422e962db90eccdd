/**
 * Why do some seeds of `--preset liu2022` fall back or diverge? (docs/liu2022.md §4)
 *
 * Re-runs the training loop of lib/train.ts step for step (same batch seeds, same L2, Adam, Dale projection, same
 * evaluation batches), so its `base` curve is bit-identical to `modprop train --preset liu2022 --seed S`, and records
 * what `train` does not: gradient norms, ρ(Wrec), how many weights Dale's law holds at zero, the largest weight.
 * Variants swap in one piece of the public code (Helena-Yuhan-Liu/ModProp) at a time:
 *   deepr  — their sign × θ parametrisation with Deep R (bin/rewiring_tools_NP2.py): a weight that reaches zero stays
 *            disconnected, L1 shrinks every connected |w| by lr · 1e-2 per step, and once more than 1 % of the
 *            Wrec and Wout entries are disconnected, random disconnected ones are reconnected at 1e-12.
 *   e97    — their 97/23 excitatory/inhibitory split (ours 96/24).
 *
 *   npx tsx scripts/liu2022-diagnose.ts --seed 9 [--variant deepr] [--iterations 1000] [--sampler box-muller] [--out file.json]
 *   (--sampler: delayed XOR's noise sampler, default the task's default 'fast'; docs/liu2022.md §4 was measured with box-muller)
 *   npx tsx scripts/liu2022-diagnose.ts --summary runs/base-*.json      (a markdown seed table of such files)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Network, gradientsAsync, presets, spectralRadius, tasks } from '../lib/index';
import { metricsOf } from '../lib/evaluate';
import { addL2, createOptimizer, project, step } from '../lib/optimizer';
import { Random, deriveSeed } from '../lib/random';
import { EVAL_STREAM, TRAIN_STREAM } from '../lib/train';

// train's batch streams, so the curve is train's bit for bit; the 1024-sequence check draws from a stream of its own.
const BIG_EVAL_STREAM = 3;
const L1 = 1e-2;
const REWIRE_CONNECTIVITY = 0.99;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const seed = Number(arg('seed', '1'));
const iterations = Number(arg('iterations', '1000'));
const variant = arg('variant', 'base');
const threads = Number(arg('threads', '1'));
const out = arg('out', '');
const sampler = arg('sampler', 'fast') as 'fast' | 'box-muller';

const norm = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
};

async function main(): Promise<void> {
  const p = presets.liu2022;
  const task = tasks.delayedXor({ sampler });
  const net = Network.create({
    nIn: 2, nRec: p.network.nRec, nOut: 2, seed, init: p.network.init,
    ...(variant === 'e97' ? { excitatoryFraction: 97 / 120 } : {}),
  });
  const n = net.nRec;
  const t = p.training;
  const rule = { ...p.rule };
  const opt = createOptimizer(t.optimizer, net.params);
  const signs = net.config.typeSigns;
  // Deep R: `alive` is their θ > 0 (the diagonal counts as connected in their Wrec variable, never as a weight).
  const alive = { wrec: new Uint8Array(n * n).fill(1), wout: new Uint8Array(n * 2).fill(1) };
  const rewire = new Random(seed, 977);
  const lrAt = (it: number): number => t.lr * t.lrDecay ** Math.floor((it - 1) / t.lrDecayEvery);
  const points: Record<string, number>[] = [];
  let acc = { loss: 0, gWrec: 0, gWout: 0, gWin: 0, gMax: 0, count: 0 };

  const evaluate = async (it: number): Promise<void> => {
    const batch = task.sample(t.batchSize, deriveSeed(seed, EVAL_STREAM, it));
    const m = metricsOf((await net.forwardAsync(batch, { threads })).y, batch, 2, task.loss);
    let zeros = 0;
    let maxW = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const w = net.params.wrec[i * n + j];
      if (w === 0) zeros++;
      maxW = Math.max(maxW, Math.abs(w));
    }
    const c = Math.max(acc.count, 1);
    points.push({
      iteration: it, loss: m.loss, accuracy: m.accuracy ?? NaN, trainLoss: acc.loss / c,
      gradWrec: acc.gWrec / c, gradWout: acc.gWout / c, gradWin: acc.gWin / c, gradWrecMax: acc.gMax,
      rho: spectralRadius(net.params.wrec, n), wrecZeroFraction: zeros / (n * n - n), wrecMaxAbs: maxW,
      woutNorm: norm(net.params.wout), winNorm: norm(net.params.win), lr: lrAt(Math.max(it, 1)),
    });
    acc = { loss: 0, gWrec: 0, gWout: 0, gWin: 0, gMax: 0, count: 0 };
    const q = points[points.length - 1];
    console.log([it, q.loss.toFixed(4), q.accuracy.toFixed(3), q.gradWrec.toExponential(2), q.gradWrecMax.toExponential(2),
      q.rho.toFixed(3), q.wrecZeroFraction.toFixed(3), q.wrecMaxAbs.toFixed(3), q.woutNorm.toFixed(2)].join('\t'));
  };

  console.log('iter\tloss\tacc\t|gWrec|\tmax|gWrec|\trho\tzeros\tmax|w|\t|Wout|');
  await evaluate(0);
  for (let it = 1; it <= iterations; it++) {
    const batch = task.sample(t.batchSize, deriveSeed(seed, TRAIN_STREAM, it));
    const g = await gradientsAsync(net, batch, rule, { threads });
    if (!Number.isFinite(g.loss)) throw new Error(`non-finite loss at ${it}`);
    acc.loss += g.loss;
    acc.count++;
    const gw = norm(g.grads.wrec);
    acc.gWrec += gw;
    acc.gMax = Math.max(acc.gMax, gw);
    acc.gWout += norm(g.grads.wout);
    acc.gWin += norm(g.grads.win);
    addL2(g.grads, net.params, t.l2);
    step(opt, net.params, g.grads, lrAt(it));
    project(net.params, net.types, signs, 2);
    if (variant === 'deepr') deepR(net, alive, lrAt(it), rewire);
    if (it % 20 === 0 || it === iterations) await evaluate(it);
  }
  // One evaluation batch of 32 is coarse (93.8 % = 30/32): the final network also meets 1024 fresh sequences.
  const big = task.sample(1024, deriveSeed(seed, BIG_EVAL_STREAM, iterations));
  const final1024 = metricsOf((await net.forwardAsync(big, { threads })).y, big, 2, task.loss);
  console.log(`final on 1024 sequences: loss ${final1024.loss.toFixed(4)} accuracy ${final1024.accuracy}`);
  if (out) writeFileSync(out, JSON.stringify({ seed, variant, sampler, iterations, points, final1024 }) + "\n");
}

/** Their rewiring step after Adam: dead stays dead, L1 on the connected, reconnect beyond 1 % disconnected. */
function deepR(net: Network, alive: { wrec: Uint8Array; wout: Uint8Array }, lr: number, rng: Random): void {
  const n = net.nRec;
  let dead = 0;
  const candidates: [Float32Array, Uint8Array, number][] = [];
  for (const k of ['wrec', 'wout'] as const) {
    const w = net.params[k];
    const a = alive[k];
    for (let i = 0; i < w.length; i++) {
      if (k === 'wrec' && Math.floor(i / n) === i % n) continue;
      if (!a[i] || w[i] === 0) {
        w[i] = 0;
        a[i] = 0;
      } else {
        const m = Math.abs(w[i]) - lr * L1;
        if (m <= 0) {
          w[i] = 0;
          a[i] = 0;
        } else w[i] = Math.sign(w[i]) * m;
      }
      if (!a[i]) {
        dead++;
        candidates.push([w, a, i]);
      }
    }
  }
  const total = n * n + n * 2;
  const reconnect = dead - (total - Math.floor(total * REWIRE_CONNECTIVITY));
  for (let r = 0; r < reconnect && candidates.length > 0; r++) {
    const pick = Math.floor(rng.uniform() * candidates.length);
    const [w, a, i] = candidates[pick];
    candidates[pick] = candidates[candidates.length - 1];
    candidates.pop();
    a[i] = 1;
    // 1e-12 with the presynaptic sign: a live, effectively zero weight that Adam may grow.
    const pre = w === net.params.wrec ? Math.floor(i / n) : Math.floor(i / 2);
    w[i] = 1e-12 * net.config.typeSigns![net.types[pre]];
  }
}

interface RunFile {
  seed: number;
  variant: string;
  iterations: number;
  points: Record<string, number>[];
  final1024?: { loss: number; accuracy?: number };
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
}

/** One row per run file: when it first reached 95 %, when it first fell back, and what ρ and the gradients did. */
function summary(files: string[]): void {
  const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as RunFile).sort((a, b) => a.seed - b.seed);
  const pct = (x: number | undefined): string => (x === undefined ? '—' : `${(100 * x).toFixed(1)} %`);
  const rows = runs.map((r) => {
    const first = r.points.find((p) => p.accuracy >= 0.95)?.iteration;
    const fell = first === undefined ? undefined : r.points.find((p) => p.iteration > first && p.accuracy < 0.95)?.iteration;
    const end = r.points[r.points.length - 1];
    const late = r.points.filter((p) => p.iteration >= 400);
    const worst = late.reduce((a, p) => (p.gradWrecMax > a.gradWrecMax ? p : a), r.points[0]);
    return [r.seed, first ?? 'never', first !== undefined && first <= 400 ? 'yes' : 'no', fell ?? '—', pct(end.accuracy),
      pct(r.final1024?.accuracy), end.loss.toPrecision(2), pct(Math.min(...late.map((p) => p.accuracy))),
      `${r.points[0].rho.toFixed(2)} → ${Math.max(...r.points.map((p) => p.rho)).toFixed(2)}`,
      `${worst.gradWrecMax.toPrecision(2)} (${worst.iteration})`];
  });
  const head = ['seed', 'first ≥ 95 %', 'by 400', 'first fall < 95 % after it', 'accuracy at end (32)', 'accuracy at end (1024)',
    'loss at end', 'lowest accuracy 400–end', 'ρ(Wrec) start → max', 'largest ‖∇Wrec‖ from 400 (iteration)'];
  const typical = runs.map((r) => median(r.points.filter((p) => p.iteration > 0).map((p) => p.gradWrec)));
  const held = runs.map((r) => Math.max(...r.points.map((p) => p.wrecZeroFraction)));
  console.log(`typical ‖∇Wrec‖ (median over the run of the 20-iteration means): ${Math.min(...typical).toPrecision(2)}–${Math.max(...typical).toPrecision(2)}; ` +
    `Wrec entries at exactly 0 (most during the run): ${pct(Math.min(...held))}–${pct(Math.max(...held))}\n`);
  const line = (c: unknown[]): string => `| ${c.join(' | ')} |`;
  console.log([line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n'));
  const by400 = rows.filter((r) => r[2] === 'yes').length;
  const ends = runs.filter((r) => r.points[r.points.length - 1].accuracy >= 0.95).length;
  const big = runs.filter((r) => (r.final1024?.accuracy ?? 0) >= 0.95).length;
  const stay = runs.filter((r) => r.points.filter((p) => p.iteration >= 400).every((p) => p.accuracy >= 0.95)).length;
  console.log(`\n${runs[0]?.variant}: ${runs.length} seeds; ≥ 95 % by 400: ${by400}; ≥ 95 % at the end: ${ends} (batch of 32), ` +
    `${big} (1024 sequences); ≥ 95 % at every evaluation from 400: ${stay}`);
}

if (process.argv.includes('--summary')) {
  summary(process.argv.slice(process.argv.indexOf('--summary') + 1));
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
