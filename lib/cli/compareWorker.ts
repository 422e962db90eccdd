/**
 * One `compare` run on a worker thread: builds the task and network, calls `train`, and streams every evaluation
 * point (and, with --align-every, the rule's cosine alignment with bptt on the network of that iteration) back to
 * the main thread, which owns the progress display and the outputs.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { backend, setThreads } from '../backend';
import { alignment } from '../gradients';
import { Network } from '../network';
import { deriveSeed } from '../random';
import { train, type TrainCallOptions } from '../train';
import type { CurvePoint, TrainResult } from '../trainTypes';
import type { RuleConfig } from '../types';
import { taskFromFlags, type TaskFlags } from './common';
import type { NetworkRecipe } from './preset';

/** Stream of deriveSeed for alignment batches (train uses 1 and 2 for its training and evaluation batches). */
const ALIGN_STREAM = 3;

export interface CompareJob {
  kind: 'modprop-compare';
  task: TaskFlags;
  seed: number;
  rule: RuleConfig;
  nRec: number;
  tau?: number;
  /** init, recurrentRadius, subtypes: only those the command set. */
  network?: NetworkRecipe;
  /** Native threads for this run (the native pool is per process: every worker sets the same number). */
  threads: number;
  backend?: 'native' | 'reference';
  train: Pick<TrainCallOptions, 'iterations' | 'batchSize' | 'lr' | 'lrDecay' | 'lrDecayEvery' | 'l2' | 'optimizer' | 'evalEvery'>;
  alignEvery?: number;
  alignBatchSize: number;
}

/** Main thread → worker: stop training (the worker still reports what it has), or end the thread. */
export type CompareControl = { type: 'abort' } | { type: 'exit' };

export type CompareMessage =
  | { type: 'point'; point: CurvePoint }
  | { type: 'alignment'; iteration: number; cosine: { win: number; wrec: number; wout: number; all: number } }
  | { type: 'done'; result: TrainResult; engine: string }
  | { type: 'aborted'; result?: TrainResult }
  | { type: 'error'; name: string; message: string };

/**
 * The thread is never terminated from outside while a run is in flight: a native kernel may still be running, and
 * tearing the thread down under it is not safe. Abort goes through train's AbortSignal; the thread ends by closing
 * its port, which lets any kernel in flight finish first.
 */
async function run(job: CompareJob): Promise<void> {
  const port = parentPort!;
  const post = (m: CompareMessage): void => port.postMessage(m);
  const controller = new AbortController();
  port.on('message', (m: CompareControl) => {
    if (m.type === 'abort') controller.abort();
    else port.close();
  });
  try {
    if (backend.name === 'native') setThreads(job.threads);
    const { task } = taskFromFlags(job.task, job.seed);
    const net = Network.create({ nIn: task.nIn, nRec: job.nRec, nOut: task.nOut, seed: job.seed, ...(job.tau !== undefined ? { tau: job.tau } : {}), ...job.network });
    const options: TrainCallOptions = {
      ...job.rule, ...job.train, seed: job.seed, ...(job.backend ? { backend: job.backend } : {}), signal: controller.signal,
      onProgress: (p) => {
        const { iterations: _i, lr: _lr, final: _f, ...point } = p;
        post({ type: 'point', point });
        // train calls onProgress right after the step of p.iteration, so `net` holds that iteration's weights.
        if (job.alignEvery !== undefined && p.iteration % job.alignEvery === 0 && job.rule.rule !== 'bptt') {
          const batch = task.sample(job.alignBatchSize, deriveSeed(job.seed, ALIGN_STREAM, p.iteration));
          const [row] = alignment(net, batch, [job.rule], job.backend ? { backend: job.backend } : undefined);
          post({ type: 'alignment', iteration: p.iteration, cosine: row.cosine });
        }
      },
    };
    const result = await train(net, task, options);
    // The engine train() ran on: a rule without a native spiking form falls back to the reference engine.
    post({ type: 'done', result, engine: result.metadata.engine });
  } catch (err) {
    const e = err as Error;
    if (e.name === 'AbortError') {
      post({ type: 'aborted', result: (err as { result?: TrainResult }).result });
      return;
    }
    post({ type: 'error', name: e.name ?? 'Error', message: e.name === 'ModpropError' ? e.message : String(e.stack ?? e.message) });
  }
}

if (!isMainThread && parentPort && (workerData as CompareJob | undefined)?.kind === 'modprop-compare') {
  void run(workerData as CompareJob);
}
