/**
 * The training-iteration phase (issue 13 goal 1, issue 11 "Load"): per rule at the paper's size, train()'s marginal
 * cost per iteration (two runs differing only in their number of iterations), the gradient alone on the networks
 * those iterations train (gradientsAsync on the parameters after `short` and after `long` iterations, on batches
 * those iterations drew: the mean of single calls), their ratio (goal ≤ 1.15), and the event-loop
 * delay while train() runs (perf_hooks, 1 ms resolution; goal p99 < 10 ms). Each repeat's ratio pairs its runs with
 * a gradient measured on its own networks right after them, and the reported ratio is the median of those: on the
 * shared VM the speed drifts by 10–40 % within minutes, and a ratio of two numbers measured minutes apart moved with it. The 'fast' sampler is measured
 * explicitly; Box–Muller rows show what it saves.
 *
 * Why not the freshly initialised network: the kernels skip ReLU zeros (and online ModProp's filter and MDGL see the
 * weights), so the cost of a gradient moves as training changes the activity; timing it on an untrained network
 * compared the iterations with a gradient they never computed.
 *
 * Spiking rows (`neuron`: lif, alif; docs/neurons.md) time the same on a network of those neurons, beside the rate rows.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Network, gradientsAsync, tasks, train } from '../lib/index';
import { deriveSeed } from '../lib/random';
import { TRAIN_STREAM } from '../lib/train';
import type { TaskSampler } from '../lib/tasks/delayedXor';
import { quantile, type Job } from './suites';
import { medianInterval } from '../lib/cli/stats';
import { IdleProbe } from './idleProbe';

export interface EventLoopDelay { p50: number; p99: number; max: number }

export interface TrainRow {
  job: Job['name'];
  label: string;
  /** A spiking network's neuron model (lib/neurons); absent for the rate unit. */
  neuron?: 'lif' | 'alif';
  sampler: TaskSampler;
  threads: number;
  /** train()'s marginal ms per iteration (median of `runsMs`). */
  medianMs: number;
  runsMs: number[];
  /**
   * gradientsAsync alone on the networks trained for `short` and `long` iterations, on batches the measured
   * iterations drew, as many calls in all as measured iterations (at least `gradientBatches` per network; results
   * before `measuredMs` used exactly that many): the mean of single calls, the median over the repeats, ms. Results
   * from before `gradientOneBatchMs` hold the one-batch figure here.
   */
  gradientMs: number;
  /** The same networks, each on one batch timed `gradientCalls` times (mean of the two medians; median over repeats), ms. */
  gradientOneBatchMs?: number;
  /** The median over the repeats of the iteration's ms over gradientOneBatchMs (the ratio benches before reported). */
  oneBatchRatio?: number;
  /** The same on the untrained network (what earlier benches reported), ms. */
  gradientFreshMs: number;
  /**
   * The median over the repeats of each repeat's ratio: its marginal ms per iteration over the gradient ms on the
   * networks that repeat trained, measured right after it (so a drift of the shared machine's speed between repeats
   * cancels within each ratio).
   */
  ratio: number;
  /** Each repeat's ratio (absent in results from before this field). */
  ratios?: number[];
  /** The sign test's 95 % interval for the median ratio (lib/cli/stats.ts medianInterval; absent with ≤ 5 repeats). */
  ratioInterval?: { lo: number; hi: number; coverage: number };
  /** While the long train() runs ran, in ms. */
  eventLoop: EventLoopDelay;
  /**
   * An idle worker thread's own event-loop delay during the run with the worst main-thread max (bench/idleProbe.ts):
   * a max near the main thread's says the machine stalled both, not the library (absent in older results).
   */
  idleLoop?: EventLoopDelay;
  short: number;
  long: number;
}

/**
 * `long` is the long run's least number of iterations: it is short + k·(long − short), k the least whole number
 * (at least 1) for which the measured iterations take `measuredMs` at the untrained network's gradient cost, so that
 * a cheap rule's estimate is not one of a fraction of a second (measured at long = 85: online e-prop's per-repeat
 * ratios spread 0.91–1.27). The gradient is timed on at least `gradientBatches` batches per network, and on as many
 * calls in all as the measured iterations (the same stretch of time for the denominator as for the numerator).
 */
export interface TrainPhaseOptions { nRec: number; batch: number; short: number; long: number; measuredMs: number; repeats: number; gradientCalls: number; gradientBatches: number; threads: number; neuron?: 'lif' | 'alif' }

type RunShape = { nRec: number; batch: number; threads: number; neuron?: 'lif' | 'alif' };

const freshNetwork = (task: ReturnType<typeof tasks.delayedXor>, o: RunShape): Network =>
  Network.create({ nIn: task.nIn, nRec: o.nRec, nOut: task.nOut, seed: 1, ...(o.neuron ? { neuron: { model: o.neuron } } : {}) });

/** One timed train() run of `iterations` on a fresh network (seed 1, an evaluation every 20), and that network. */
async function timedRun(job: Job, task: ReturnType<typeof tasks.delayedXor>, o: RunShape, iterations: number,
  during?: { start(): void | Promise<void>; stop(): void | Promise<void> }): Promise<{ ms: number; net: Network }> {
  const net = freshNetwork(task, o);
  await during?.start();
  const t0 = performance.now();
  await train(net, task, { ...job.rule!, iterations, evalEvery: Math.min(20, iterations), batchSize: o.batch, backend: 'native', threads: o.threads, seed: 1 });
  const ms = performance.now() - t0;
  await during?.stop();
  return { ms, net };
}

export async function measureTraining(job: Job, sampler: TaskSampler, o: TrainPhaseOptions): Promise<TrainRow> {
  const task = tasks.delayedXor({ sampler });
  const trainBatch = (iteration: number) => task.sample(o.batch, deriveSeed(1, TRAIN_STREAM, iteration));
  // Median of back-to-back gradientsAsync calls on `net` with one batch (after one untimed call).
  const gradientMedian = async (net: Network, iteration: number): Promise<number> => {
    const batch = trainBatch(iteration);
    await gradientsAsync(net, batch, job.rule!, { backend: 'native', threads: o.threads });
    const grads: number[] = [];
    for (let i = 0; i < o.gradientCalls; i++) {
      const t0 = performance.now();
      await gradientsAsync(net, batch, job.rule!, { backend: 'native', threads: o.threads });
      grads.push(performance.now() - t0);
    }
    return quantile(grads.sort((x, y) => x - y), 0.5);
  };
  // The mean of single gradientsAsync calls on the batches the measured iterations drew (every few iterations from
  // short + 1 to long, each on the network after `short` and on the one after `long`, after one untimed call on
  // each): the kernels skip ReLU zeros, so a batch's cost depends on its cues (measured: 2.3–3.4 ms over 40 batches
  // of online ModProp on one network, interleaved), and one batch timed over and over stood for all of them.
  const batchesMean = async (nets: Network[]): Promise<number> => {
    const count = Math.max(o.gradientBatches, Math.ceil((long - o.short) / nets.length));
    const its: number[] = [];
    for (let k = 0; k < count; k++) its.push(o.short + 1 + Math.floor(((long - o.short - 1) * k) / Math.max(1, count - 1)));
    let total = 0;
    for (const net of nets) {
      await gradientsAsync(net, trainBatch(its[0]), job.rule!, { backend: 'native', threads: o.threads });
      for (const it of its) {
        const batch = trainBatch(it); // drawn outside the timed call
        const t0 = performance.now();
        await gradientsAsync(net, batch, job.rule!, { backend: 'native', threads: o.threads });
        total += performance.now() - t0;
      }
    }
    return total / (nets.length * its.length);
  };
  const gradientFreshMs = await gradientMedian(freshNetwork(task, o), 1);
  const span = o.long - o.short;
  const long = o.short + span * Math.max(1, Math.ceil(o.measuredMs / (span * gradientFreshMs)));
  const ms = (ns: number): number => ns / 1e6;
  // One histogram per watched run: a monitorEventLoopDelay histogram that is disabled and enabled again records the
  // whole disabled interval as its next sample (measured: a 'max' of 100–190 ms that was the short run in between,
  // against 5–10 ms with a fresh histogram per run).
  const watched: { main: EventLoopDelay; idle: EventLoopDelay }[] = [];
  const probe = new IdleProbe();
  const run = async (iterations: number, watch: boolean): Promise<{ ms: number; net: Network }> => {
    if (!watch) return timedRun(job, task, o, iterations);
    const delay = monitorEventLoopDelay({ resolution: 1 });
    return timedRun(job, task, o, iterations, {
      start: async () => {
        await probe.start();
        delay.enable();
      },
      stop: async () => {
        delay.disable();
        watched.push({ main: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) }, idle: await probe.stop() });
      },
    });
  };
  await run(1, false); // warm-up
  const perIteration: number[] = [];
  const gradients: number[] = [];
  const oneBatchGradients: number[] = [];
  const ratios: number[] = [];
  const oneBatchRatios: number[] = [];
  for (let r = 0; r < o.repeats; r++) {
    const a = await run(o.short, false);
    const b = await run(long, true);
    const iteration = (b.ms - a.ms) / (long - o.short);
    // The gradient on the networks this repeat trained (after `short` and after `long` iterations), right after it:
    // on the batches those iterations drew (the ratio's denominator), and on one batch each, timed over and over
    // (what benches before this field reported).
    const gradient = await batchesMean([a.net, b.net]);
    const oneBatch = ((await gradientMedian(a.net, o.short + 1)) + (await gradientMedian(b.net, long))) / 2;
    perIteration.push(iteration);
    gradients.push(gradient);
    oneBatchGradients.push(oneBatch);
    ratios.push(iteration / gradient);
    oneBatchRatios.push(iteration / oneBatch);
  }
  const median = (xs: number[]): number => quantile([...xs].sort((x, y) => x - y), 0.5);
  const medianMs = median(perIteration);
  const gradientMs = median(gradients);
  const gradientOneBatchMs = median(oneBatchGradients);
  // Over the watched runs: the median p50, the worst p99 and the worst max.
  const loops = watched.map((w) => w.main);
  const eventLoop: EventLoopDelay = {
    p50: quantile(loops.map((w) => w.p50).sort((x, y) => x - y), 0.5),
    p99: Math.max(...loops.map((w) => w.p99)),
    max: Math.max(...loops.map((w) => w.max)),
  };
  const idleLoop = watched.reduce((worst, w) => (w.main.max > worst.main.max ? w : worst)).idle;
  await probe.close();
  return {
    job: job.name, label: o.neuron ? `${job.label}, ${o.neuron}` : job.label, ...(o.neuron ? { neuron: o.neuron } : {}), sampler, threads: o.threads, medianMs, runsMs: perIteration, gradientMs, gradientOneBatchMs, gradientFreshMs, ratio: median(ratios), ratios,
    oneBatchRatio: median(oneBatchRatios),
    ratioInterval: medianInterval(ratios, 0.95),
    eventLoop, idleLoop, short: o.short, long,
  };
}

export function trainRowLine(t: TrainRow): string {
  return `  ${t.label.padEnd(24)} ${t.sampler.padEnd(10)} ${t.medianMs.toFixed(2).padStart(8)} ms / iteration, gradient ${t.gradientMs.toFixed(2).padStart(7)} ms ` +
    `(untrained ${t.gradientFreshMs.toFixed(2)}), ratio ${t.ratio.toFixed(2)}; event loop p50 ${t.eventLoop.p50.toFixed(1)} / p99 ${t.eventLoop.p99.toFixed(1)} / max ${t.eventLoop.max.toFixed(1)} ms` +
    (t.idleLoop ? ` (an idle worker's max then ${t.idleLoop.max.toFixed(1)} ms)` : '');
}

/**
 * train()'s marginal ms per iteration of one rule at the paper's size on the native engine, from one pair of runs
 * (`short` and `long` iterations on fresh networks, as measureTraining times them): the quick measurement the
 * PyTorch pairing (bench/torch.ts pairedPeer) interleaves with the peer's steps.
 */
export async function marginalIterationMs(job: Job, o: RunShape & { short: number; long: number }): Promise<number> {
  const task = tasks.delayedXor({ sampler: 'fast' });
  const a = await timedRun(job, task, o, o.short);
  const b = await timedRun(job, task, o, o.long);
  return (b.ms - a.ms) / (o.long - o.short);
}
