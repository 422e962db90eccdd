/**
 * The training-iteration phase (issue 13 goal 1, issue 11 "Load"): per rule at the paper's size, the gradient alone
 * (gradientsAsync, median of back-to-back calls), train()'s marginal cost per iteration (suites.ts trainIteration),
 * their ratio (goal ≤ 1.15), and the event-loop delay while train() runs (perf_hooks, 1 ms resolution; goal p99
 * < 10 ms). The 'fast' sampler is measured explicitly; Box–Muller rows show what it saves.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Network, gradientsAsync, tasks, train } from '../lib/index';
import type { TaskSampler } from '../lib/tasks/delayedXor';
import { quantile, type Job } from './suites';

export interface EventLoopDelay { p50: number; p99: number; max: number }

export interface TrainRow {
  job: Job['name'];
  label: string;
  sampler: TaskSampler;
  threads: number;
  /** train()'s marginal ms per iteration (median of `runsMs`). */
  medianMs: number;
  runsMs: number[];
  /** gradientsAsync alone, same network, batch size and threads: median ms. */
  gradientMs: number;
  /** medianMs ÷ gradientMs. */
  ratio: number;
  /** While the long train() runs ran, in ms. */
  eventLoop: EventLoopDelay;
  short: number;
  long: number;
}

export interface TrainPhaseOptions { nRec: number; batch: number; short: number; long: number; repeats: number; gradientCalls: number; threads: number }

export async function measureTraining(job: Job, sampler: TaskSampler, o: TrainPhaseOptions): Promise<TrainRow> {
  const task = tasks.delayedXor({ sampler });
  const fresh = (): Network => Network.create({ nIn: task.nIn, nRec: o.nRec, nOut: task.nOut, seed: 1 });
  const net = fresh();
  const batch = task.sample(o.batch, 1);
  await gradientsAsync(net, batch, job.rule!, { backend: 'native', threads: o.threads });
  const grads: number[] = [];
  for (let i = 0; i < o.gradientCalls; i++) {
    const t0 = performance.now();
    await gradientsAsync(net, batch, job.rule!, { backend: 'native', threads: o.threads });
    grads.push(performance.now() - t0);
  }
  const ms = (ns: number): number => ns / 1e6;
  // One histogram per watched run: a monitorEventLoopDelay histogram that is disabled and enabled again records the
  // whole disabled interval as its next sample (measured: a 'max' of 100–190 ms that was the short run in between,
  // against 5–10 ms with a fresh histogram per run).
  const watched: EventLoopDelay[] = [];
  const run = async (iterations: number, watch: boolean): Promise<number> => {
    const n = fresh();
    const delay = monitorEventLoopDelay({ resolution: 1 });
    const t0 = performance.now();
    if (watch) delay.enable();
    await train(n, task, { ...job.rule!, iterations, evalEvery: Math.min(20, iterations), batchSize: o.batch, backend: 'native', threads: o.threads, seed: 1 });
    if (watch) {
      delay.disable();
      watched.push({ p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) });
    }
    return performance.now() - t0;
  };
  await run(1, false); // warm-up
  const perIteration: number[] = [];
  for (let r = 0; r < o.repeats; r++) {
    const a = await run(o.short, false);
    const b = await run(o.long, true);
    perIteration.push((b - a) / (o.long - o.short));
  }
  const medianMs = quantile([...perIteration].sort((x, y) => x - y), 0.5);
  const gradientMs = quantile([...grads].sort((x, y) => x - y), 0.5);
  // Over the watched runs: the median p50, the worst p99 and the worst max.
  const eventLoop: EventLoopDelay = {
    p50: quantile(watched.map((w) => w.p50).sort((x, y) => x - y), 0.5),
    p99: Math.max(...watched.map((w) => w.p99)),
    max: Math.max(...watched.map((w) => w.max)),
  };
  return {
    job: job.name, label: job.label, sampler, threads: o.threads, medianMs, runsMs: perIteration, gradientMs, ratio: medianMs / gradientMs,
    eventLoop, short: o.short, long: o.long,
  };
}

export function trainRowLine(t: TrainRow): string {
  return `  ${t.label.padEnd(24)} ${t.sampler.padEnd(10)} ${t.medianMs.toFixed(2).padStart(8)} ms / iteration, gradient ${t.gradientMs.toFixed(2).padStart(7)} ms, ` +
    `ratio ${t.ratio.toFixed(2)}; event loop p50 ${t.eventLoop.p50.toFixed(1)} / p99 ${t.eventLoop.p99.toFixed(1)} / max ${t.eventLoop.max.toFixed(1)} ms`;
}
