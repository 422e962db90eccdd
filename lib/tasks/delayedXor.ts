/**
 * delayed-xor (SPEC §5), the task of the ModProp paper: two input channels with baseline 0.02; channel 0 carries a
 * Gaussian bump in the first cue window when the first bit is 1, channel 1 in the last cue window when the second
 * bit is 1; Gaussian noise (std 0.01) on every input. Label 1 when the bits are equal, else 0; `xent-last`.
 * Bump over a cue window of length L: 2·exp(-u²/(2·(L/4)²)) + 0.02 with u = linspace(-L/2, L/2, L) (L = 100 in the paper).
 *
 * `sampler` picks the normal deviates of the noise: 'fast' (the default since 0.1: fastNormal.ts, a ziggurat, drawn
 * natively when the addon is loaded, in TypeScript otherwise, bit-identical either way) or 'box-muller'
 * (Random.normal, the default before; runs recorded without a sampler re-run with it). Both draw the bits the same
 * way, so only the noise differs.
 */
import { Random, STREAMS } from '../random';
import type { Batch } from '../types';
import { sampleInWorker } from './boxMullerPool';
import { fastNormal } from './fastNormal';
import { loadNativeSampler, nativeSampler, registerAsyncSample, registerDrawPlan, samplerError, type NativeSampler, type PlannedDraw } from './nativeSampler';
import { ModpropError } from '../validate';
import * as validate from '../validate';
import type { Task } from './task';

export interface DelayedXorOptions {
  /** Length of each cue window (default 100). */
  cueSteps?: number;
  /** Steps between the two cues (default 700). */
  delaySteps?: number;
  /** Standard deviation of the input noise (default 0.01). */
  noise?: number;
  /** Normal sampler of the noise: 'fast' (default) or 'box-muller' (see the file header). */
  sampler?: TaskSampler;
}

export type TaskSampler = 'box-muller' | 'fast';
export const TASK_SAMPLERS: readonly TaskSampler[] = ['box-muller', 'fast'];

const BASELINE = 0.02;
const AMPLITUDE = 2.0;
const MAX_NOISE = 1e6;

export interface DelayedXorTask extends Task {
  readonly sampler: TaskSampler;
  /** `sample` drawn by the given side of the 'fast' sampler (the same numbers; for the parity tests). */
  sampleOn(engine: 'native' | 'reference', batchSize: number, seed: number): Batch;
}

export function delayedXor(options: DelayedXorOptions = {}): DelayedXorTask {
  const o = validate.plainObject(options, 'options');
  validate.knownKeys(o, 'options', ['cueSteps', 'delaySteps', 'noise', 'sampler']);
  const cue = o.cueSteps === undefined ? 100 : validate.integer(o.cueSteps, 'options.cueSteps', 1, 1_000_000);
  const delay = o.delaySteps === undefined ? 700 : validate.integer(o.delaySteps, 'options.delaySteps', 0, 100_000_000);
  // Inputs are float32 and a normal draw reaches ±6σ: a larger noise than this would only drown the cues in overflow.
  const noise = o.noise === undefined ? 0.01 : validate.numberInRange(o.noise, 'options.noise', 0, MAX_NOISE, `a number between 0 and ${MAX_NOISE}`);
  const sampler = o.sampler === undefined ? 'fast' : validate.oneOf(o.sampler, 'options.sampler', TASK_SAMPLERS);
  const steps = 2 * cue + delay;
  const bump = new Float64Array(cue);
  const width = cue / 4;
  for (let i = 0; i < cue; i++) {
    const u = cue === 1 ? 0 : -cue / 2 + (cue * i) / (cue - 1);
    bump[i] = AMPLITUDE * Math.exp(-(u * u) / (2 * width * width)) + BASELINE;
  }
  const check = (batchSize: number, seed: number): void => {
    validate.integer(batchSize, 'batchSize', 1, 1_000_000);
    validate.integer(seed, 'seed', 0);
    if (batchSize * steps * 2 > validate.MAX_ELEMENTS) {
      validate.fail(`batchSize × steps × nIn ≤ ${validate.MAX_ELEMENTS}`, 'batchSize', `${batchSize} × ${steps} × 2`, true);
    }
  };
  // The bits of both samplers: first and second bit of each sequence, and the label (1 when they are equal).
  const drawBits = (batchSize: number, seed: number): { bits: Uint8Array; labels: Int32Array } => {
    const rng = new Random(seed, STREAMS.taskBits);
    const bits = new Uint8Array(2 * batchSize);
    const labels = new Int32Array(batchSize);
    for (let b = 0; b < batchSize; b++) {
      bits[2 * b] = rng.uniform() < 0.5 ? 1 : 0;
      bits[2 * b + 1] = rng.uniform() < 0.5 ? 1 : 0;
      labels[b] = bits[2 * b] === bits[2 * b + 1] ? 1 : 0;
    }
    return { bits, labels };
  };
  const fill = (x: Float32Array, bits: Uint8Array, rng: Random, normal: (r: Random) => number): void => {
    for (let b = 0; b < bits.length / 2; b++) {
      const first = bits[2 * b];
      const second = bits[2 * b + 1];
      for (let t = 0; t < steps; t++) {
        const at = (b * steps + t) * 2;
        let c0 = BASELINE;
        let c1 = BASELINE;
        if (first && t < cue) c0 = bump[t];
        if (second && t >= steps - cue) c1 = bump[t - (steps - cue)];
        x[at] = c0 + (noise > 0 ? noise * normal(rng) : 0);
        x[at + 1] = c1 + (noise > 0 ? noise * normal(rng) : 0);
      }
    }
  };
  const boxMuller = (r: Random): number => r.normal();
  const sampleWith = (batchSize: number, seed: number, engine?: 'native' | 'reference'): Batch => {
    check(batchSize, seed);
    const { bits, labels } = drawBits(batchSize, seed);
    const rng = new Random(seed, STREAMS.taskNoise);
    const x = new Float32Array(batchSize * steps * 2);
    let native: NativeSampler | undefined;
    if (sampler === 'fast' && engine !== 'reference') native = engine === 'native' ? loadNativeSampler() : nativeSampler();
    if (sampler === 'fast' && engine === 'native' && !native) throw new ModpropError('the native sampler is not available (the addon did not load or lacks it)');
    if (native) {
      try {
        native.delayedXorFast(rng.state(), bits, bump, x, steps, BASELINE, noise);
      } catch (err) {
        throw samplerError(err);
      }
    } else {
      fill(x, bits, rng, sampler === 'fast' ? fastNormal : boxMuller);
    }
    return { x, batchSize, steps, labels };
  };
  // The same batch off the JS thread: the 'fast' sampler natively on a libuv worker, Box–Muller (and 'fast' without
  // the addon) in TypeScript on a worker thread.
  const sampleAsync = async (batchSize: number, seed: number, into?: Float32Array): Promise<Batch> => {
    check(batchSize, seed);
    const native = sampler === 'fast' ? nativeSampler() : undefined;
    if (!native) return sampleInWorker({ cueSteps: cue, delaySteps: delay, noise, sampler }, batchSize, seed);
    const { bits, labels } = drawBits(batchSize, seed);
    // The native sampler writes every entry, so a caller's spent array serves as well as a new one (a fresh 230 KB
    // array cost ≈ 0.4 ms of the JS thread at paper size: its pages are mapped and zeroed at each allocation).
    const x = into !== undefined && into.length === batchSize * steps * 2 ? into : new Float32Array(batchSize * steps * 2);
    try {
      await native.delayedXorFastAsync(new Random(seed, STREAMS.taskNoise).state(), bits, bump, x, steps, BASELINE, noise);
    } catch (err) {
      throw samplerError(err);
    }
    return { x, batchSize, steps, labels };
  };
  // The same batch as a draw for train()'s native iteration job, which fills x beside its gradient (the 'fast'
  // sampler with the addon loaded only; the arguments are delayedXorFast's, so the numbers are the same).
  const planDraw = (batchSize: number, seed: number, into?: Float32Array): PlannedDraw | undefined => {
    if (sampler !== 'fast' || !nativeSampler()) return undefined;
    check(batchSize, seed);
    const { bits, labels } = drawBits(batchSize, seed);
    const x = into !== undefined && into.length === batchSize * steps * 2 ? into : new Float32Array(batchSize * steps * 2);
    return { batch: { x, batchSize, steps, labels }, args: [new Random(seed, STREAMS.taskNoise).state(), bits, bump, x, steps, BASELINE, noise] };
  };
  const sample = registerAsyncSample((batchSize: number, seed: number) => sampleWith(batchSize, seed), sampleAsync);
  registerDrawPlan(sample, planDraw);
  return {
    name: 'delayed-xor',
    nIn: 2,
    nOut: 2,
    loss: 'xent-last',
    metric: 'accuracy',
    steps,
    sampler,
    sample,
    sampleOn: (engine: 'native' | 'reference', batchSize: number, seed: number) => {
      validate.oneOf(engine, 'engine', ['native', 'reference'] as const);
      return sampleWith(batchSize, seed, engine);
    },
  };
}
