/**
 * Box–Muller batches off the JS thread: one worker (lib/tasks/samplerWorker.ts) that train()'s prefetch hands each
 * batch to, so drawing ~57 600 normals per paper-size batch (≈ 3 ms of JS) no longer blocks the event loop. The
 * worker runs the same TypeScript, so the batches are bit-identical to `sample`'s. Idle, it does not keep the process
 * alive (WorkerPool).
 */
import { WorkerPool, startWorkerFile } from '../backends/workerPool';
import type { Batch } from '../types';
import type { DelayedXorOptions } from './delayedXor';
import type { SampleJob } from './samplerWorker';

let pool: WorkerPool<Batch> | undefined;

export function sampleInWorker(options: DelayedXorOptions, batchSize: number, seed: number): Promise<Batch> {
  pool ??= new WorkerPool<Batch>(() => startWorkerFile(__dirname, 'samplerWorker'), 1);
  const job: SampleJob = { options, batchSize, seed };
  return pool.run(job, []);
}
