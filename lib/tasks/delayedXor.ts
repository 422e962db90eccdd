/**
 * delayed-xor (SPEC §5), the task of the ModProp paper: two input channels with baseline 0.02; channel 0 carries a
 * Gaussian bump in the first cue window when the first bit is 1, channel 1 in the last cue window when the second
 * bit is 1; Gaussian noise (std 0.01) on every input. Label 1 when the bits are equal, else 0; `xent-last`.
 * Bump over a cue window of length L: 2·exp(-u²/(2·(L/4)²)) + 0.02 with u = linspace(-L/2, L/2, L) (L = 100 in the paper).
 */
import { Random, STREAMS } from '../random';
import * as validate from '../validate';
import type { Task } from './task';

export interface DelayedXorOptions {
  /** Length of each cue window (default 100). */
  cueSteps?: number;
  /** Steps between the two cues (default 700). */
  delaySteps?: number;
  /** Standard deviation of the input noise (default 0.01). */
  noise?: number;
}

const BASELINE = 0.02;
const AMPLITUDE = 2.0;
const MAX_NOISE = 1e6;

export function delayedXor(options: DelayedXorOptions = {}): Task {
  const o = validate.plainObject(options, 'options');
  validate.knownKeys(o, 'options', ['cueSteps', 'delaySteps', 'noise']);
  const cue = o.cueSteps === undefined ? 100 : validate.integer(o.cueSteps, 'options.cueSteps', 1, 1_000_000);
  const delay = o.delaySteps === undefined ? 700 : validate.integer(o.delaySteps, 'options.delaySteps', 0, 100_000_000);
  // Inputs are float32 and a normal draw reaches ±6σ: a larger noise than this would only drown the cues in overflow.
  const noise = o.noise === undefined ? 0.01 : validate.numberInRange(o.noise, 'options.noise', 0, MAX_NOISE, `a number between 0 and ${MAX_NOISE}`);
  const steps = 2 * cue + delay;
  const bump = new Float64Array(cue);
  const width = cue / 4;
  for (let i = 0; i < cue; i++) {
    const u = cue === 1 ? 0 : -cue / 2 + (cue * i) / (cue - 1);
    bump[i] = AMPLITUDE * Math.exp(-(u * u) / (2 * width * width)) + BASELINE;
  }
  return {
    name: 'delayed-xor',
    nIn: 2,
    nOut: 2,
    loss: 'xent-last',
    metric: 'accuracy',
    steps,
    sample(batchSize: number, seed: number) {
      validate.integer(batchSize, 'batchSize', 1, 1_000_000);
      validate.integer(seed, 'seed', 0);
      if (batchSize * steps * 2 > validate.MAX_ELEMENTS) {
        validate.fail(`batchSize × steps × nIn ≤ ${validate.MAX_ELEMENTS}`, 'batchSize', `${batchSize} × ${steps} × 2`, true);
      }
      const bits = new Random(seed, STREAMS.taskBits);
      const rng = new Random(seed, STREAMS.taskNoise);
      const x = new Float32Array(batchSize * steps * 2);
      const labels = new Int32Array(batchSize);
      for (let b = 0; b < batchSize; b++) {
        const first = bits.uniform() < 0.5 ? 1 : 0;
        const second = bits.uniform() < 0.5 ? 1 : 0;
        labels[b] = first === second ? 1 : 0;
        for (let t = 0; t < steps; t++) {
          const at = (b * steps + t) * 2;
          let c0 = BASELINE;
          let c1 = BASELINE;
          if (first && t < cue) c0 = bump[t];
          if (second && t >= steps - cue) c1 = bump[t - (steps - cue)];
          x[at] = c0 + (noise > 0 ? noise * rng.normal() : 0);
          x[at + 1] = c1 + (noise > 0 ? noise * rng.normal() : 0);
        }
      }
      return { x, batchSize, steps, labels };
    },
  };
}
