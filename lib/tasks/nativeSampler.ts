/**
 * The native side of the 'fast' sampler (native/binding/sampler.cc), when the addon is loaded and has it. The
 * reference engine (MODPROP_BACKEND=reference, or no addon) draws the same numbers in TypeScript (fastNormal.ts),
 * so which side runs changes no number, only the speed and which thread does the work.
 */
import { loadAddon, type DelayedXorDrawArgs, type NativeAddon } from '../native/addon';
import type { Batch } from '../types';
import { ModpropError } from '../validate';

export type NativeSampler = Required<Pick<NativeAddon, 'delayedXorFast' | 'delayedXorFastAsync' | 'fastNormals' | 'samplerMath'>>;

let cached: { sampler?: NativeSampler } | undefined;

/** The native sampler unless MODPROP_BACKEND=reference asks for no addon. */
export function nativeSampler(): NativeSampler | undefined {
  return process.env.MODPROP_BACKEND === 'reference' ? undefined : loadNativeSampler();
}

/** The native sampler whenever the addon has it, whatever MODPROP_BACKEND says (for the parity tests). */
export function loadNativeSampler(): NativeSampler | undefined {
  if (cached === undefined) {
    const loaded = loadAddon();
    const a = 'addon' in loaded ? loaded.addon : undefined;
    const complete = a && typeof a.delayedXorFast === 'function' && typeof a.delayedXorFastAsync === 'function' &&
      typeof a.fastNormals === 'function' && typeof a.samplerMath === 'function';
    cached = complete ? { sampler: a as NativeSampler } : {};
  }
  return cached.sampler;
}

/** The addon's input errors (code MODPROP_INVALID) as ModpropError. */
export function samplerError(err: unknown): unknown {
  if (err instanceof Error && (err as { code?: string }).code === 'MODPROP_INVALID') return new ModpropError(err.message);
  return err;
}

type SampleFn = (batchSize: number, seed: number) => Batch;
/**
 * The off-thread twin of a task's `sample`: the same batch, drawn off the JS thread. `into`, when given, is an x
 * array the caller no longer uses, which the twin may fill (every entry overwritten) instead of allocating one.
 */
export type AsyncSampleFn = (batchSize: number, seed: number, into?: Float32Array) => Promise<Batch>;

// A task's `sample` function → the same draw off the JS thread. Keyed by the function, not the task, so a task copied
// with its own `sample` replaced ({ ...task, sample }) loses the async twin and train calls the replacement.
const twins = new WeakMap<SampleFn, AsyncSampleFn>();

export function registerAsyncSample(sample: SampleFn, sampleAsync: AsyncSampleFn): SampleFn {
  twins.set(sample, sampleAsync);
  return sample;
}

/**
 * The batch `sample(batchSize, seed)` would return, drawn off the JS thread when the task has such a twin (undefined
 * otherwise). Its x may be `into` (see AsyncSampleFn).
 */
export function sampleOffThread(sample: SampleFn, batchSize: number, seed: number, into?: Float32Array): Promise<Batch> | undefined {
  return twins.get(sample)?.(batchSize, seed, into);
}

/**
 * A batch whose x a native training iteration draws (lib/trainStep.ts, native/binding/kernels.cc trainStepAsync):
 * the batch (labels set, x filled only once that job has ended) and the arguments of delayedXorFast that fill it.
 */
export interface PlannedDraw { batch: Batch; args: DelayedXorDrawArgs }
/** Plans the batch `sample(batchSize, seed)` would return, or undefined where only `sample` can draw it. */
export type PlanDrawFn = (batchSize: number, seed: number, into?: Float32Array) => PlannedDraw | undefined;

const planners = new WeakMap<SampleFn, PlanDrawFn>();

export function registerDrawPlan(sample: SampleFn, plan: PlanDrawFn): SampleFn {
  planners.set(sample, plan);
  return sample;
}

/**
 * The batch `sample(batchSize, seed)` would return, as a draw for a native training iteration to run (undefined when
 * the task has no such plan or the native sampler is not loaded). Its x may be `into` (see AsyncSampleFn).
 */
export function planDraw(sample: SampleFn, batchSize: number, seed: number, into?: Float32Array): PlannedDraw | undefined {
  return planners.get(sample)?.(batchSize, seed, into);
}
