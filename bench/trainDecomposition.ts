/**
 * `node --require tsx/cjs bench/trainDecomposition.ts [job] [repeats]` (default modprop-online, 8): where a training
 * iteration's cost goes beside its gradient (issue 13 goal 1), at the paper's size on the native engine, 2 threads.
 * Each repeat times train()'s marginal ms per iteration (a 5- and an 85-iteration run, as bench/trainPhase.ts) in six
 * settings, interleaved: as train() runs by default (an evaluation every 20 iterations, each next batch drawn by the
 * iteration job before it, on the pool beside its gradient), without evaluations, without evaluations on one fixed
 * batch (no sampling at all), and without evaluations with the batches drawn by a separate job off the JS thread
 * (MODPROP_TRAIN_JOB_DRAWS=0, as before the jobs drew them), on the JS thread (the same numbers, no off-thread twin) or
 * all before the run (the same distinct batches, no drawing while training); after each setting the gradient alone
 * (gradientsAsync on the network its long run trained, single calls on 20 of the batches that run drew, after one
 * untimed call: the mean, as bench/trainPhase.ts). Prints each repeat, the medians and each setting's median ratio;
 * measures, asserts nothing.
 */
import { Network, gradientsAsync, setThreads, tasks, train } from '../lib/index';
import { deriveSeed } from '../lib/random';
import { TRAIN_STREAM } from '../lib/train';
import type { Batch } from '../lib/types';
import { JOBS, quantile } from './suites';

const [name = 'modprop-online', repeatsText = '8'] = process.argv.slice(2);
const job = JOBS.find((j) => j.name === name && j.rule);
if (!job?.rule) throw new Error(`Expected one of ${JOBS.filter((j) => j.rule).map((j) => j.name).join(', ')} for the job but received '${name}'`);
const rule = job.rule;
const repeats = Number(repeatsText);
if (!Number.isInteger(repeats) || repeats < 1) throw new Error(`Expected an integer ≥ 1 for the repeats but received '${repeatsText}'`);

const SHORT = 5;
const LONG = Number(process.env.LONG ?? 85);
const THREADS = 2;

(async () => {
  setThreads(THREADS);
  const task = tasks.delayedXor({ sampler: 'fast' });
  const fixed = task.sample(32, 12345);
  const fixedTask = { ...task, sample: (b: number, s: number) => (b === 32 ? fixed : task.sample(b, s)) };
  // Every training batch drawn before the runs (distinct batches, as train draws them, but no drawing while it runs).
  const predrawn = new Map<number, Batch>();
  for (let it = 1; it <= LONG; it++) predrawn.set(deriveSeed(1, TRAIN_STREAM, it), task.sample(32, deriveSeed(1, TRAIN_STREAM, it)));
  const predrawnTask = { ...task, sample: (b: number, s: number) => (b === 32 ? predrawn.get(s) ?? task.sample(b, s) : task.sample(b, s)) };
  // A copy with its own sample function has no off-thread twin (lib/tasks/nativeSampler.ts): train draws on the JS thread.
  const jsThreadTask = { ...task, sample: (b: number, s: number) => task.sample(b, s) };
  const fresh = (): Network => Network.create({ nIn: task.nIn, nRec: 120, nOut: task.nOut, seed: 1 });
  const median = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);
  // The mean of single calls on 20 of the batches the long run drew (evenly spaced over the measured iterations).
  const gradient = async (net: Network, sample: (b: number, s: number) => Batch): Promise<number> => {
    const batches: Batch[] = [];
    for (let k = 0; k < 20; k++) batches.push(sample(32, deriveSeed(1, TRAIN_STREAM, SHORT + 1 + Math.floor(((LONG - SHORT - 1) * k) / 19))));
    await gradientsAsync(net, batches[0], rule, { backend: 'native', threads: THREADS });
    let total = 0;
    for (const batch of batches) {
      const t0 = performance.now();
      await gradientsAsync(net, batch, rule, { backend: 'native', threads: THREADS });
      total += performance.now() - t0;
    }
    return total / batches.length;
  };
  const settings = [
    { label: 'default (eval every 20)', task, evalEvery: 20, jobDraws: true },
    { label: 'no evaluations', task, evalEvery: 1000, jobDraws: true },
    { label: 'no evaluations, one fixed batch', task: fixedTask, evalEvery: 1000, jobDraws: true },
    { label: 'no evaluations, drawn by a separate job', task, evalEvery: 1000, jobDraws: false },
    { label: 'no evaluations, drawn on JS thread', task: jsThreadTask, evalEvery: 1000, jobDraws: true },
    { label: 'no evaluations, drawn beforehand', task: predrawnTask, evalEvery: 1000, jobDraws: true },
  ] as const;
  const iterations: Record<string, number[]> = {};
  const gradients: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  for (let r = 0; r < repeats; r++) {
    const line: string[] = [];
    for (const s of settings) {
      if (s.jobDraws) delete process.env.MODPROP_TRAIN_JOB_DRAWS;
      else process.env.MODPROP_TRAIN_JOB_DRAWS = '0';
      const run = async (count: number): Promise<{ ms: number; net: Network }> => {
        const net = fresh();
        const t0 = performance.now();
        await train(net, s.task, { ...rule, iterations: count, evalEvery: Math.min(s.evalEvery, count), batchSize: 32, backend: 'native', threads: THREADS, seed: 1 });
        return { ms: performance.now() - t0, net };
      };
      const a = await run(SHORT);
      const b = await run(LONG);
      const perIteration = (b.ms - a.ms) / (LONG - SHORT);
      const g = await gradient(b.net, s.task.sample);
      (iterations[s.label] ??= []).push(perIteration);
      (gradients[s.label] ??= []).push(g);
      (ratios[s.label] ??= []).push(perIteration / g);
      line.push(`${s.label}: ${perIteration.toFixed(2)} / ${g.toFixed(2)} = ${(perIteration / g).toFixed(2)}`);
    }
    console.log(`repeat ${r + 1} (iteration / gradient ms): ${line.join(' | ')}`);
  }
  console.log(`\n${job.label}, medians over ${repeats} repeats:`);
  for (const s of settings) {
    console.log(`  ${s.label.padEnd(40)} iteration ${median(iterations[s.label]).toFixed(2)} ms, gradient ${median(gradients[s.label]).toFixed(2)} ms, ratio ${median(ratios[s.label]).toFixed(2)}`);
  }
})().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
