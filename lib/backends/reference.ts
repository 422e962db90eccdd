/** The reference engine behind the `Engine` interface: float64 math, float32 results, async on a worker thread. */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LossName } from '../contract';
import { runSequence } from '../reference/forward';
import { dataOf, modelOf, referenceGradients, type ReferenceRule } from '../reference/index';
import type { NetworkLike } from '../reference/model';
import type { Batch, ForwardResult, GradientResult } from '../types';
import type { NormalizedRule } from '../validate';
import { abortError, snapshot, type Engine } from './engine';

export function referenceForward(net: NetworkLike, batch: Batch): ForwardResult {
  const m = modelOf(net);
  const { batchSize: B, steps: T } = batch;
  const x = Float64Array.from(batch.x);
  const v = new Float32Array(B * T * m.nRec);
  const z = new Float32Array(B * T * m.nRec);
  const y = new Float32Array(B * T * m.nOut);
  for (let b = 0; b < B; b++) {
    const r = runSequence(m, x, b, T);
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

/** The worker entry; under tsx (tests, development) it is a .ts file, so the worker registers tsx first. */
function startWorker(job: ReferenceJob): Worker {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `referenceWorker${ext}`);
  if (ext !== '.ts') return new Worker(file, { workerData: job });
  const loader = require.resolve('tsx/cjs'); // resolved here: the worker's own lookup starts from the cwd
  return new Worker(`require(${JSON.stringify(loader)}); require(${JSON.stringify(file)});`, { eval: true, workerData: job });
}

function runOnWorker(job: ReferenceJob, signal?: AbortSignal): Promise<GradientResult> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const worker = startWorker(job);
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      finish(() => reject(abortError(signal!)));
      void worker.terminate();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (msg: { ok: true; result: GradientResult } | { ok: false; message: string; name: string }) => {
      finish(() => {
        if (msg.ok) resolve(msg.result);
        else {
          const err = new Error(msg.message);
          err.name = msg.name;
          reject(err);
        }
      });
      void worker.terminate();
    });
    worker.once('error', (err) => finish(() => reject(err)));
    worker.once('exit', (code) => finish(() => reject(new Error(`reference worker exited with code ${code} before answering`))));
  });
}

export const referenceEngine: Engine = {
  name: 'reference',
  forward: referenceForward,
  // Inline: evaluation batches are small next to a gradient, and the reference engine is the slow fallback anyway.
  forwardAsync: async (net, batch) => referenceForward(net, batch),
  gradients: referenceGradients32,
  gradientsAsync: (net, batch, rule, loss, signal) => runOnWorker({ net: snapshot(net), batch, rule, loss }, signal),
};
