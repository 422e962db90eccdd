/**
 * `npm start`: the published ModProp result, reproduced — train the `liu2022` preset (ModProp with cell feedback and
 * the public code's initialisation, as the paper's public runs computed it; docs/liu2022.md) on delayed XOR at the
 * paper's size and settings, and compare its curve with those public runs. Writes the run to results/.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { anchorCurves, anchorLabel } from './cli/anchor';
import { runFigure } from './cli/figures';
import { iterationsTo, median } from './cli/stats';
import { Network, backend, getThreads, presets, tasks, train } from './index';
import { figureSvg } from './plot';

async function main(): Promise<void> {
  const p = presets.liu2022;
  // Seed 3 is a typical seed of the README's seed table (95 % at 180, stays there); 17 of seeds 1–20 reach 95 % by 400.
  const seed = 3;
  const iterations = 400;
  const task = tasks.delayedXor(p.task.options);
  const net = Network.create({ nIn: task.nIn, nRec: p.network.nRec, nOut: task.nOut, init: p.network.init, seed });
  const engine = backend.name === 'native' ? `native engine, ${getThreads()} threads, ${String(backend.native?.simd)}` : `reference engine (${backend.reason})`;
  console.log(`modprop: the liu2022 preset — ${p.description}`);
  console.log(`delayed XOR, ${task.steps} steps, batch ${p.training.batchSize}, ${net.nRec} units (E/I, Dale's law), seed ${seed}; ` +
    `${iterations} iterations of Adam at lr ${p.training.lr}; ${engine}\n`);
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const run = await train(net, task, {
    ...p.rule, ...p.training, iterations, seed, evalEvery: 20, signal: controller.signal,
    onProgress: (q) => {
      const bar = '#'.repeat(Math.round((q.accuracy ?? 0) * 20)).padEnd(20, '.');
      console.log(`iteration ${String(q.iteration).padStart(4)}  loss ${q.loss.toFixed(4)}  accuracy ${(100 * (q.accuracy ?? 0)).toFixed(1).padStart(5)} % [${bar}]  ${(q.elapsedMs / 1000).toFixed(1)} s`);
    },
  });
  const first = iterationsTo(run.curve);
  const publicIts = anchorCurves().map((c) => iterationsTo(c)).filter(Number.isFinite);
  const out = path.resolve('results', 'start.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ ...run, config: { ...run.config, preset: 'liu2022' } }, null, 2));
  const svg = out.replace(/\.json$/, '.svg');
  fs.writeFileSync(svg, await figureSvg(runFigure(run.curve, {
    title: 'npm start: the liu2022 preset beside the public ModProp runs', metric: 'accuracy', label: 'modprop (cell, μ=0.25), liu2022 init — this run', anchor: true,
    subtitle: [`N = ${net.nRec}, T = ${task.steps}, batch ${p.training.batchSize}, seed ${seed}, lr ${p.training.lr}, ${backend.name} engine`],
  })));
  console.log(`\nfinal: loss ${run.final.loss.toFixed(4)}, accuracy ${(100 * (run.final.accuracy ?? 0)).toFixed(1)} % on a fresh batch of 32, ` +
    `${(run.final.elapsedMs / 1000).toFixed(1)} s (${(run.final.elapsedMs / iterations).toFixed(1)} ms per iteration)`);
  console.log(`${Number.isFinite(first) ? `first reached ≥ 95 % at iteration ${first}` : 'did not reach 95 % within the run'}; ` +
    `${anchorLabel()}: ${Math.min(...publicIts)}–${Math.max(...publicIts)}, median ${median(publicIts)}`);
  console.log(`curve written to ${path.relative(process.cwd(), out)} and ${path.relative(process.cwd(), svg)}`);
}

main().catch((err: Error) => {
  console.error(`modprop: ${err.name === 'ModpropError' || err.name === 'AbortError' ? err.message : err.stack}`);
  process.exit(err.name === 'AbortError' ? 130 : 1);
});
