/**
 * The initialisation of `Network.createAsync` on a worker thread: at large N the draws (N² normals in JS) and the
 * spectral radius take seconds, which `Network.create` spends on the caller's thread. One worker, started on first
 * use and unref'd while idle (lib/backends/workerPool.ts); calls queue. Same config → the same parameters bit for bit
 * as `Network.create` (the worker runs the same code; the spectral radius is engine-independent, lib/krylov.ts).
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { WorkerPool } from './backends/workerPool';
import type { Params } from './types';
import { ModpropError, type NormalizedNetworkConfig } from './validate';

/** Under tsx (tests, development) the entry is a .ts file, so the worker registers tsx first. */
function startWorker(): Worker {
  const ext = path.extname(__filename);
  const file = path.join(__dirname, `createWorker${ext}`);
  if (ext !== '.ts') return new Worker(file);
  const loader = require.resolve('tsx/cjs');
  return new Worker(`require(${JSON.stringify(loader)}); require(${JSON.stringify(file)});`, { eval: true });
}

let pool: WorkerPool<Params> | undefined;

export async function initialParamsAsync(config: NormalizedNetworkConfig): Promise<Params> {
  pool ??= new WorkerPool<Params>(startWorker, 1);
  try {
    return await pool.run(config, []);
  } catch (err) {
    // A ModpropError crosses the thread boundary as a plain Error carrying its name.
    if ((err as Error).name === 'ModpropError') throw new ModpropError((err as Error).message);
    throw err;
  }
}
