/** The reference engine behind the `Engine` interface: float64 math, float32 results, async on a worker thread. */
import * as os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { LossName } from '../contract';
import { runSequence } from '../reference/forward';
import { runSpikingSequence } from '../reference/spiking/forward';
import { dataOf, modelOf, referenceGradients, type ReferenceRule } from '../reference/index';
import type { NetworkLike } from '../reference/model';
import type { Batch, ForwardResult, GradientResult } from '../types';
import type { NormalizedRule } from '../validate';
import { snapshot, type Engine } from './engine';
import { WorkerPool, startWorkerFile } from './workerPool';

export function referenceForward(net: NetworkLike, batch: Batch): ForwardResult {
  const m = modelOf(net);
  const { batchSize: B, steps: T } = batch;
  const x = Float64Array.from(batch.x);
  const v = new Float32Array(B * T * m.nRec);
  const z = new Float32Array(B * T * m.nRec);
  const y = new Float32Array(B * T * m.nOut);
  for (let b = 0; b < B; b++) {
    const r = m.neuron ? runSpikingSequence(m, x, b, T) : runSequence(m, x, b, T);
    v.set(r.v, b * T * m.nRec);
    z.set(r.z, b * T * m.nRec);
    y.set(r.y, b * T * m.nOut);
  }
  return { v, z, y };
}

export function referenceGradients32(net: NetworkLike, batch: Batch, rule: ReferenceRule, loss: LossName): GradientResult {
  const r = referenceGradients(modelOf(net), dataOf(batch, loss), rule);
  const g = r.grads;
  return {
    loss: r.loss,
    grads: { win: Float32Array.from(g.win), wrec: Float32Array.from(g.wrec), wout: Float32Array.from(g.wout), bout: Float32Array.from(g.bout) },
  };
}

/** Message posted to the worker. */
export interface ReferenceJob {
  net: NetworkLike;
  batch: Batch;
  rule: NormalizedRule;
  loss: LossName;
}

function startWorker(): Worker {
  return startWorkerFile(__dirname, 'referenceWorker');
}

/** Four workers keep two cores busy with room for a caller's own threads; more only cost memory. */
const pool = new WorkerPool<GradientResult>(startWorker, Math.max(1, Math.min(os.availableParallelism(), 4)));

/** The reference engine's worker pool (its size and current load are visible to tests). */
export const referenceWorkerPool = pool;

/** Posts a copy of the job taken now, so a caller changing its batch after the call (even while queued) changes nothing. */
function runOnWorker(net: NetworkLike, batch: Batch, rule: NormalizedRule, loss: LossName, signal?: AbortSignal): Promise<GradientResult> {
  const copy: Batch = { x: batch.x.slice(), batchSize: batch.batchSize, steps: batch.steps };
  if (batch.labels) copy.labels = batch.labels.slice();
  if (batch.targets) copy.targets = batch.targets.slice();
  const job: ReferenceJob = { net: snapshot(net), batch: copy, rule, loss };
  const p = job.net.params;
  const transfer = [p.win, p.wrec, p.wout, p.bout, job.net.types, job.net.randomFeedback, copy.x, copy.labels, copy.targets]
    .filter((a): a is NonNullable<typeof a> => a !== undefined).map((a) => a.buffer as ArrayBuffer);
  return pool.run(job, transfer, signal);
}

export const referenceEngine: Engine = {
  name: 'reference',
  forward: referenceForward,
  // Inline: evaluation batches are small next to a gradient, and the reference engine is the slow fallback anyway.
  forwardAsync: async (net, batch) => referenceForward(net, batch),
  gradients: referenceGradients32,
  gradientsAsync: runOnWorker,
};
