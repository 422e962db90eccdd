/**
 * The interface every engine implements. Engines receive validated, normalised input only (lib/validate.ts ran
 * first) and a network snapshot that is plain data, so it can cross to a worker thread.
 */
import type { LossName } from '../contract';
import type { NetworkLike } from '../reference/model';
import type { Batch, ForwardResult, GradientResult, Params } from '../types';
import type { NormalizedRule } from '../validate';

export type EngineName = 'native' | 'reference';

export interface Engine {
  readonly name: EngineName;
  // `threads`: the native engine's thread count for this call (lib/threads.ts); the reference engine ignores it.
  // `out`: checked arrays the result may be written into (else Network copies the engine's own result there).
  forward(net: NetworkLike, batch: Batch, threads?: number, out?: ForwardResult): ForwardResult;
  /** `forward` off the JS thread (the native engine on the libuv pool; the reference engine runs it inline). */
  forwardAsync(net: NetworkLike, batch: Batch, threads?: number, out?: ForwardResult): Promise<ForwardResult>;
  /**
   * `forwardAsync` writing into caller-owned outputs of the right sizes (train() reuses them for every evaluation, so
   * no B·T·N arrays are allocated and collected each time). Optional: the native engine has it.
   */
  forwardAsyncInto?(net: NetworkLike, batch: Batch, out: ForwardResult, threads?: number): Promise<ForwardResult>;
  /**
   * The readout y alone, written into `y` (B·T·K): no v and z leave the engine, so the pass writes no B·T·N arrays
   * (train()'s evaluations; at the paper's size a full forward spends most of its time storing them). Optional.
   */
  forwardOutputsAsync?(net: NetworkLike, batch: Batch, y: Float32Array, threads?: number): Promise<Float32Array>;
  /**
   * `out`: checked arrays (lib/gradients.ts) the result's grads may be written into; an engine may also ignore it and
   * return its own (lib/gradients.ts copies them into `out` then).
   */
  gradients(net: NetworkLike, batch: Batch, rule: NormalizedRule, loss: LossName, threads?: number, out?: Params): GradientResult;
  gradientsAsync(net: NetworkLike, batch: Batch, rule: NormalizedRule, loss: LossName, signal?: AbortSignal, threads?: number, out?: Params): Promise<GradientResult>;
}

/**
 * A plain-data copy of what an engine reads from a network (safe to post to a worker). `copy` copies each weight
 * array (the native engine's asynchronous calls copy into pooled arrays, lib/backends/bufferPool.ts).
 */
export function snapshot(net: NetworkLike, copy: (a: Float32Array) => Float32Array = (a) => a.slice()): NetworkLike {
  const p = net.params;
  return {
    nIn: net.nIn, nRec: net.nRec, nOut: net.nOut, nTypes: net.nTypes, alpha: net.alpha,
    types: net.types.slice(), randomFeedback: net.randomFeedback.slice(),
    config: {
      threshold: net.config.threshold, ...(net.config.neuron ? { dt: net.config.dt, neuron: { ...net.config.neuron } } : {}),
      ...(net.mask ? { connectivity: net.config.connectivity } : {}),
    },
    params: { win: copy(p.win), wrec: copy(p.wrec), wout: copy(p.wout), bout: copy(p.bout) },
    ...(net.mask ? { mask: net.mask.slice() } : {}),
  };
}

export function abortError(signal: AbortSignal): Error {
  if (signal.reason instanceof Error) return signal.reason;
  const err = new Error(signal.reason === undefined ? 'The operation was aborted' : String(signal.reason));
  err.name = 'AbortError';
  return err;
}
