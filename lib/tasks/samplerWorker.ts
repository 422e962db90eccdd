/**
 * Worker-thread entry that draws delayed-XOR batches (lib/tasks/boxMullerPool.ts): Box–Muller stays in TypeScript
 * (V8's Math.log/sin/cos cannot be matched bit for bit in C++), so it runs here, off the JS thread, with the same
 * code and therefore the same numbers. One task per distinct option set is kept.
 */
import { parentPort } from 'node:worker_threads';
import { delayedXor, type DelayedXorOptions, type DelayedXorTask } from './delayedXor';

export interface SampleJob {
  options: DelayedXorOptions;
  batchSize: number;
  seed: number;
}

const tasks = new Map<string, DelayedXorTask>();

parentPort!.on('message', (job: SampleJob) => {
  try {
    const key = JSON.stringify(job.options);
    let task = tasks.get(key);
    if (!task) tasks.set(key, (task = delayedXor(job.options)));
    const result = task.sample(job.batchSize, job.seed);
    parentPort!.postMessage({ ok: true, result }, [result.x.buffer, result.labels!.buffer] as ArrayBuffer[]);
  } catch (err) {
    const e = err as Error;
    parentPort!.postMessage({ ok: false, message: e.message, name: e.name });
  }
});
