/**
 * The native engine's thread count. It is a per-call option (`threads` of gradients, gradientsAsync, train and
 * forward) with a default per worker thread: `setThreads` sets the default of the thread that calls it (module state
 * is per JS realm, so another worker keeps its own), and nothing process-wide is changed. The default is the number
 * of CPUs this process may run on (`os.availableParallelism()`: the CPU affinity, so `taskset -c 0` gives 1).
 * A request above that is clamped to it with a one-time warning on stderr: more threads than CPUs only queue.
 * Results are bit-identical for a given (effective) thread count.
 */
import * as os from 'node:os';
import { integer } from './validate';

/** Largest thread count accepted (the binding's own bound, native/core/contract.h kMaxThreads). */
export const MAX_THREADS = 1024;

let defaultThreads: number | undefined;
let warned = false;

// Read once, at load: availableParallelism() is the calling thread's affinity, and a program that pins its JS thread
// to one CPU (as the bench does, to keep the pool's workers off it) must not thereby lose the other CPUs.
const CPUS = Math.max(1, os.availableParallelism());

/** CPUs this process may run on (at least 1), as its affinity was when modprop loaded. */
export function availableThreads(): number {
  return CPUS;
}

/** Validates a requested thread count and clamps it to the available CPUs (warning once per thread). */
export function threadCount(value: unknown, name: string): number {
  const n = integer(value, name, 1, MAX_THREADS);
  const cap = availableThreads();
  if (n <= cap) return n;
  if (!warned) {
    warned = true;
    process.emitWarning(`modprop: ${name} = ${n} is more than the ${cap} CPU${cap > 1 ? 's' : ''} this process may use; using ${cap}`, { code: 'MODPROP_THREADS_CLAMPED' });
  }
  return cap;
}

/** The thread count of a call: the one it names, else this worker's default. */
export function threadsFor(requested: number | undefined): number {
  return requested ?? defaultThreads ?? availableThreads();
}

export function setDefaultThreads(n: number): void {
  defaultThreads = n;
}
