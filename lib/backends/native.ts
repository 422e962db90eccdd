/**
 * The native engine: the C++ kernels of native/core behind the `Engine` interface. Available only when the addon
 * loads, its contract matches lib/contract.ts, and it provides the kernels. Arguments are packed positionally by the
 * tables of lib/contract.ts; input errors from the core come back with code MODPROP_INVALID and become ModpropError.
 */
import {
  FEEDBACK_IDS, FORWARD_ARRAYS, GRADIENT_ARRAYS, JOB_FLOATS, JOB_INTS, LEARNING_SIGNAL_IDS, LOSS_IDS, NEURON_IDS, RULE_IDS,
  type LossName,
} from '../contract';
import { sparseKernels } from '../connectivity';
import { loadAddon, type NativeAddon } from '../native/addon';
import { spikingConstants } from '../neurons/neuron';
import type { NetworkLike } from '../reference/model';
import type { Batch, ForwardResult, GradientResult, Params } from '../types';
import { ModpropError, type NormalizedRule } from '../validate';
import { giveFloat32, takeFloat32 } from './bufferPool';
import { abortError, snapshot, type Engine } from './engine';
import { threadsFor } from '../threads';

type Kernels = Required<Pick<NativeAddon, 'forward' | 'forwardAsync' | 'gradients' | 'gradientsAsync' | 'setThreads'>>;
export type ArrayArg = Float32Array | Int32Array | Uint8Array | null;

export interface NativeCandidate {
  engine?: Engine;
  /** Why the native engine is not available. */
  reason?: string;
  /** What the addon reports about itself, when it loaded. */
  info?: Record<string, unknown>;
  /** The loaded kernels (for the thread-count settings). */
  kernels?: Kernels;
}

function header(net: NetworkLike, batch: Batch, rule: NormalizedRule | null, loss: LossName, threads: number | undefined): { ints: Int32Array; floats: Float64Array } {
  const ints = new Int32Array(Object.keys(JOB_INTS).length);
  ints[JOB_INTS.batch] = batch.batchSize;
  ints[JOB_INTS.steps] = batch.steps;
  ints[JOB_INTS.nIn] = net.nIn;
  ints[JOB_INTS.nRec] = net.nRec;
  ints[JOB_INTS.nOut] = net.nOut;
  ints[JOB_INTS.nTypes] = net.nTypes;
  ints[JOB_INTS.loss] = LOSS_IDS[loss];
  ints[JOB_INTS.threads] = threadsFor(threads);
  const floats = new Float64Array(Object.keys(JOB_FLOATS).length);
  floats[JOB_FLOATS.alpha] = net.alpha;
  floats[JOB_FLOATS.threshold] = net.config.threshold;
  const neuron = net.config.neuron;
  ints[JOB_INTS.neuron] = NEURON_IDS[neuron?.model ?? 'rate'];
  if (neuron) {
    // The constants lib/reference/spiking uses (net.alpha is already exp(−dt/τ_m)); native/core/spiking.cc.
    const k = spikingConstants(neuron, net.config.dt ?? 1);
    ints[JOB_INTS.refractory] = k.refractory;
    for (const key of ['rho', 'beta', 'vth', 'dampening', 'kappa'] as const) floats[JOB_FLOATS[key]] = k[key];
  }
  if (rule) {
    ints[JOB_INTS.rule] = RULE_IDS[rule.rule];
    ints[JOB_INTS.feedback] = FEEDBACK_IDS[rule.feedback];
    ints[JOB_INTS.learningSignal] = LEARNING_SIGNAL_IDS[rule.learningSignal];
    ints[JOB_INTS.online] = rule.online ? 1 : 0;
    ints[JOB_INTS.window] = rule.window;
    floats[JOB_FLOATS.mu] = rule.mu;
  }
  return { ints, floats };
}

const PARAM_KEYS = ['win', 'wrec', 'wout', 'bout'] as const;

function pooledGrads(net: NetworkLike): Params {
  return {
    win: takeFloat32(net.nIn * net.nRec), wrec: takeFloat32(net.nRec * net.nRec),
    wout: takeFloat32(net.nRec * net.nOut), bout: takeFloat32(net.nOut),
  };
}

/** A copy of `a` in a pooled array (lib/backends/bufferPool.ts), for snapshot(net, pooledCopy). */
function pooledCopy(a: Float32Array): Float32Array {
  const b = takeFloat32(a.length);
  b.set(a);
  return b;
}

/** Gives the four arrays of a pooled snapshot's weights or pooled gradients back to the pool. */
function releaseParams(p: Params): void {
  for (const key of PARAM_KEYS) giveFloat32(p[key]);
}

function emptyGrads(net: NetworkLike): Params {
  return {
    win: new Float32Array(net.nIn * net.nRec), wrec: new Float32Array(net.nRec * net.nRec),
    wout: new Float32Array(net.nRec * net.nOut), bout: new Float32Array(net.nOut),
  };
}

function gradientArrays(net: NetworkLike, batch: Batch, grads: Params): ArrayArg[] {
  const a: ArrayArg[] = new Array(Object.keys(GRADIENT_ARRAYS).length).fill(null);
  const p = net.params;
  a[GRADIENT_ARRAYS.win] = p.win;
  a[GRADIENT_ARRAYS.wrec] = p.wrec;
  a[GRADIENT_ARRAYS.wout] = p.wout;
  a[GRADIENT_ARRAYS.bout] = p.bout;
  a[GRADIENT_ARRAYS.randomFeedback] = net.randomFeedback;
  a[GRADIENT_ARRAYS.types] = net.types;
  a[GRADIENT_ARRAYS.x] = batch.x;
  a[GRADIENT_ARRAYS.labels] = batch.labels ?? null;
  a[GRADIENT_ARRAYS.targets] = batch.targets ?? null;
  a[GRADIENT_ARRAYS.gradWin] = grads.win;
  a[GRADIENT_ARRAYS.gradWrec] = grads.wrec;
  a[GRADIENT_ARRAYS.gradWout] = grads.wout;
  a[GRADIENT_ARRAYS.gradBout] = grads.bout;
  a[GRADIENT_ARRAYS.mask] = maskArg(net);
  return a;
}

/**
 * The positional arguments of a gradient call that reads `net` and `batch` in place and writes `grads` (no copy:
 * for train's native step, lib/trainStep.ts, which owns all three while the call runs).
 */
export function gradientCallInPlace(net: NetworkLike, batch: Batch, rule: NormalizedRule, loss: LossName, threads: number | undefined, grads: Params): [Int32Array, Float64Array, ArrayArg[]] {
  const { ints, floats } = header(net, batch, rule, loss, threads);
  return [ints, floats, gradientArrays(net, batch, grads)];
}

/** The mask when the recurrent products should run over it (lib/connectivity.ts sparseKernels), else null: dense. */
function maskArg(net: NetworkLike): Uint8Array | null {
  return sparseKernels(net.mask, net.config.connectivity, net.nRec) ? (net.mask as Uint8Array) : null;
}

/** Input errors found by the C++ core become ModpropError; internal errors pass through unchanged. */
function translate(err: unknown): unknown {
  if (err instanceof Error && (err as { code?: string }).code === 'MODPROP_INVALID') return new ModpropError(err.message);
  return err;
}

// `out.v` and `out.z` null: the readout alone (forwardOutputsAsync).
function forwardCall(net: NetworkLike, batch: Batch, threads: number | undefined, into?: ForwardResult | { v: null; z: null; y: Float32Array }): { args: [Int32Array, Float64Array, ArrayArg[]]; out: ForwardResult } {
  const size = batch.batchSize * batch.steps;
  const out = (into ?? { v: new Float32Array(size * net.nRec), z: new Float32Array(size * net.nRec), y: new Float32Array(size * net.nOut) }) as ForwardResult;
  const { ints, floats } = header(net, batch, null, 'xent-last', threads);
  const a: ArrayArg[] = new Array(Object.keys(FORWARD_ARRAYS).length).fill(null);
  a[FORWARD_ARRAYS.win] = net.params.win;
  a[FORWARD_ARRAYS.wrec] = net.params.wrec;
  a[FORWARD_ARRAYS.wout] = net.params.wout;
  a[FORWARD_ARRAYS.bout] = net.params.bout;
  a[FORWARD_ARRAYS.x] = batch.x;
  a[FORWARD_ARRAYS.v] = out.v;
  a[FORWARD_ARRAYS.z] = out.z;
  a[FORWARD_ARRAYS.y] = out.y;
  a[FORWARD_ARRAYS.mask] = maskArg(net);
  return { args: [ints, floats, a], out };
}

function nativeEngine(k: Kernels): Engine {
  const forwardAsync = (net: NetworkLike, batch: Batch, threads: number | undefined, into?: ForwardResult | { v: null; z: null; y: Float32Array }): Promise<ForwardResult> => {
    // Copied first, as for gradientsAsync: the caller may update the network or refill the batch meanwhile.
    const frozenBatch: Batch = { x: batch.x.slice(), batchSize: batch.batchSize, steps: batch.steps };
    const frozenNet = snapshot(net, pooledCopy);
    const { args, out } = forwardCall(frozenNet, frozenBatch, threads, into);
    try {
      return k.forwardAsync(...args).finally(() => releaseParams(frozenNet.params)).then(() => out, (err) => Promise.reject(translate(err)));
    } catch (err) {
      releaseParams(frozenNet.params);
      return Promise.reject(translate(err));
    }
  };
  return {
    name: 'native',
    forward(net, batch, threads, into): ForwardResult {
      const { args, out } = forwardCall(net, batch, threads, into);
      try {
        k.forward(...args);
      } catch (err) {
        throw translate(err);
      }
      return out;
    },
    forwardAsync: (net, batch, threads, out) => {
      if (!out) return forwardAsync(net, batch, threads);
      // The job writes pooled buffers, copied into the caller's `out` when it settles (never written by another thread).
      const cells = batch.batchSize * batch.steps;
      const own = { v: takeFloat32(cells * net.nRec), z: takeFloat32(cells * net.nRec), y: takeFloat32(cells * net.nOut) };
      const release = (): void => { giveFloat32(own.v); giveFloat32(own.z); giveFloat32(own.y); };
      return forwardAsync(net, batch, threads, own).then((r) => {
        out.v.set(r.v); out.z.set(r.z); out.y.set(r.y);
        release();
        return out;
      }, (err) => {
        release();
        return Promise.reject(err);
      });
    },
    forwardAsyncInto: (net, batch, into, threads) => forwardAsync(net, batch, threads, into),
    forwardOutputsAsync: (net, batch, y, threads) => forwardAsync(net, batch, threads, { v: null, z: null, y }).then((r) => r.y),
    gradients(net, batch, rule, loss, threads, out): GradientResult {
      const grads = out ?? emptyGrads(net);
      const { ints, floats } = header(net, batch, rule, loss, threads);
      try {
        return { loss: k.gradients(ints, floats, gradientArrays(net, batch, grads)), grads };
      } catch (err) {
        throw translate(err);
      }
    },
    gradientsAsync(net, batch, rule, loss, signal, threads, out): Promise<GradientResult> {
      if (signal?.aborted) return Promise.reject(abortError(signal));
      // With `out`, the job writes a pooled buffer that is copied into `out` when it settles (the caller's arrays are
      // never written by another thread); without, fresh arrays that become the result.
      const grads = out ? pooledGrads(net) : emptyGrads(net);
      const { ints, floats } = header(net, batch, rule, loss, threads);
      // Everything the worker reads is copied first (one memcpy per array, small next to the compute): a reference
      // keeps a typed array object alive but not the memory of a buffer the caller detaches or refills meanwhile,
      // and the caller may update the network while the call runs. The copy of the weights comes from the pool.
      const frozenNet = snapshot(net, pooledCopy);
      const frozenBatch: Batch = {
        x: batch.x.slice(), batchSize: batch.batchSize, steps: batch.steps,
        labels: batch.labels?.slice(), targets: batch.targets?.slice(),
      };
      const release = (): void => {
        releaseParams(frozenNet.params);
        if (out) releaseParams(grads);
      };
      let running: Promise<number>;
      try {
        running = k.gradientsAsync(ints, floats, gradientArrays(frozenNet, frozenBatch, grads));
      } catch (err) {
        release();
        return Promise.reject(translate(err));
      }
      // Released when the job has finished (not when an abort settles the promise early: the job still runs). After
      // an abort the result is dropped: `out` is not written, the caller may be using it again.
      const result = running.then((l) => {
        if (out && !signal?.aborted) for (const key of PARAM_KEYS) out[key].set(grads[key]);
        release();
        return { loss: l, grads: out ?? grads };
      }, (err) => {
        release();
        return Promise.reject(translate(err));
      });
      if (!signal) return result;
      // The kernel cannot be interrupted mid-call; an abort settles the promise at once and its result is dropped.
      return new Promise((resolve, reject) => {
        const onAbort = (): void => reject(abortError(signal));
        signal.addEventListener('abort', onAbort, { once: true });
        result.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
      });
    },
  };
}

export function loadNativeEngine(): NativeCandidate {
  const loaded = loadAddon();
  if ('error' in loaded) return { reason: loaded.error };
  const addon = loaded.addon;
  const info = { ...addon.info(), path: loaded.path } as Record<string, unknown>;
  const needed = ['forward', 'forwardAsync', 'gradients', 'gradientsAsync', 'setThreads'] as const;
  const missing = needed.filter((name) => typeof addon[name] !== 'function');
  if (missing.length) return { reason: `the native addon (${loaded.path}) loaded but lacks the kernels ${missing.join(', ')}`, info };
  const kernels = addon as unknown as Kernels;
  return { engine: nativeEngine(kernels), info, kernels };
}
