/**
 * An idle worker thread that measures its own event-loop delay while the main thread trains: a control for the main
 * thread's. The worker does nothing but wait, so a long delay seen by both at once was the machine (a paused or
 * starved virtual CPU), not the library; one seen by the main thread alone was the main thread's own work (a
 * synchronous call, a garbage-collection pause). The worker runs in its own isolate: the main isolate's
 * garbage collection does not stop it.
 */
import { Worker } from 'node:worker_threads';

export interface LoopDelay { p50: number; p99: number; max: number }

const WORKER = `
const { parentPort } = require('node:worker_threads');
const { monitorEventLoopDelay } = require('node:perf_hooks');
let h;
const alive = setInterval(() => {}, 1 << 30);
parentPort.on('message', (m) => {
  if (m === 'start') {
    h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    parentPort.postMessage('started');
  } else if (m === 'stop') {
    h.disable();
    parentPort.postMessage({ p50: h.percentile(50) / 1e6, p99: h.percentile(99) / 1e6, max: h.max / 1e6 });
  } else if (m === 'close') {
    clearInterval(alive);
    parentPort.close();
  }
});
`;

/** One worker for many watched stretches: start() before each, stop() after it (a fresh histogram each time). */
export class IdleProbe {
  private readonly worker = new Worker(WORKER, { eval: true });

  private reply<T>(message: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onError = (err: Error): void => reject(err);
      this.worker.once('error', onError);
      this.worker.once('message', (m: T) => {
        this.worker.off('error', onError);
        resolve(m);
      });
      this.worker.postMessage(message);
    });
  }

  async start(): Promise<void> {
    await this.reply<string>('start');
  }

  stop(): Promise<LoopDelay> {
    return this.reply<LoopDelay>('stop');
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
  }
}
