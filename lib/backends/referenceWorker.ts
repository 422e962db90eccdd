/** Worker-thread entry of the reference engine's async path: a pool worker answering one job per message, in order. */
import { parentPort } from 'node:worker_threads';
import { referenceGradients32, type ReferenceJob } from './reference';

parentPort!.on('message', (job: ReferenceJob) => {
  try {
    const result = referenceGradients32(job.net, job.batch, job.rule, job.loss);
    const g = result.grads;
    parentPort!.postMessage({ ok: true, result }, [g.win.buffer, g.wrec.buffer, g.wout.buffer, g.bout.buffer] as ArrayBuffer[]);
  } catch (err) {
    const e = err as Error;
    parentPort!.postMessage({ ok: false, message: e.message, name: e.name });
  }
});
