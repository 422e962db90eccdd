/**
 * A bounded pool of worker threads for the reference engine's async path (issue 11 "Load": one Worker per call let
 * 32 concurrent calls exhaust the address space). At most `size` workers exist; further calls wait in a FIFO queue.
 * A worker holds the process open only while it runs a job (ref'd), never while idle (unref'd), so a pool left
 * behind does not keep a script from exiting. An abort of a queued job drops it; an abort of a running job
 * terminates that worker (the computation cannot be interrupted) and a fresh one takes its place on demand.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { abortError } from './engine';

/**
 * Starts the worker whose entry is `<dir>/<base>` with this module's extension; under tsx (tests, development) that is
 * a .ts file, so the worker registers tsx first.
 */
export function startWorkerFile(dir: string, base: string): Worker {
  const ext = path.extname(__filename);
  const file = path.join(dir, `${base}${ext}`);
  if (ext !== '.ts') return new Worker(file);
  const loader = require.resolve('tsx/cjs'); // resolved here: the worker's own lookup starts from the cwd
  return new Worker(`require(${JSON.stringify(loader)}); require(${JSON.stringify(file)});`, { eval: true });
}

export interface PoolJob<R> {
  /** The message posted to the worker (its typed arrays are moved, so the caller passes copies). */
  message: object;
  transfer: ArrayBuffer[];
  signal?: AbortSignal;
  resolve: (value: R) => void;
  reject: (err: unknown) => void;
  onAbort?: () => void;
}

type Reply<R> = { ok: true; result: R } | { ok: false; message: string; name: string };

interface Slot<R> {
  worker: Worker;
  job?: PoolJob<R>;
}

export class WorkerPool<R> {
  private readonly slots = new Set<Slot<R>>();
  private readonly queue: PoolJob<R>[] = [];

  constructor(private readonly startWorker: () => Worker, readonly size: number) {}

  /** Workers alive now and jobs waiting (for tests and diagnostics). */
  get stats(): { workers: number; busy: number; queued: number } {
    let busy = 0;
    for (const s of this.slots) if (s.job) busy++;
    return { workers: this.slots.size, busy, queued: this.queue.length };
  }

  run(message: object, transfer: ArrayBuffer[], signal?: AbortSignal): Promise<R> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<R>((resolve, reject) => {
      const job: PoolJob<R> = { message, transfer, signal, resolve, reject };
      if (signal) {
        job.onAbort = () => this.abort(job);
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.queue.push(job);
      this.dispatch();
    });
  }

  /** Terminates every worker; queued and running jobs reject. */
  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new Error('the worker pool was closed'));
    await Promise.all([...this.slots].map((s) => this.retire(s, new Error('the worker pool was closed'))));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = [...this.slots].find((s) => !s.job);
      if (!slot) {
        if (this.slots.size >= this.size) return;
        slot = this.spawn();
      }
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.message, job.transfer);
    }
  }

  private spawn(): Slot<R> {
    const slot: Slot<R> = { worker: this.startWorker() };
    slot.worker.unref();
    slot.worker.on('message', (reply: Reply<R>) => {
      const job = slot.job;
      if (!job) return;
      slot.job = undefined;
      slot.worker.unref();
      this.settle(job, reply);
      this.dispatch();
    });
    const lost = (err: Error): void => void this.retire(slot, err);
    slot.worker.on('error', lost);
    slot.worker.on('exit', (code) => lost(new Error(`worker exited with code ${code} before answering`)));
    this.slots.add(slot);
    return slot;
  }

  private settle(job: PoolJob<R>, reply: Reply<R>): void {
    if (job.onAbort) job.signal!.removeEventListener('abort', job.onAbort);
    if (job.signal?.aborted) return; // already rejected by abort()
    if (reply.ok) job.resolve(reply.result);
    else job.reject(Object.assign(new Error(reply.message), { name: reply.name }));
  }

  /** Removes a worker from the pool; its running job (if any) rejects with `err`. */
  private async retire(slot: Slot<R>, err: Error): Promise<void> {
    if (!this.slots.delete(slot)) return;
    const job = slot.job;
    slot.job = undefined;
    if (job && !job.signal?.aborted) {
      if (job.onAbort) job.signal!.removeEventListener('abort', job.onAbort);
      job.reject(err);
    }
    await slot.worker.terminate();
    this.dispatch();
  }

  private abort(job: PoolJob<R>): void {
    const queued = this.queue.indexOf(job);
    if (queued >= 0) this.queue.splice(queued, 1);
    job.reject(abortError(job.signal!));
    const slot = [...this.slots].find((s) => s.job === job);
    if (slot) void this.retire(slot, abortError(job.signal!));
  }
}
