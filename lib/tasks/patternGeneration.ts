/**
 * pattern-generation (SPEC §5), regression in the style of the e-prop paper: the network turns a frozen random input
 * pattern into a fixed waveform. Everything is drawn once from `options.seed`:
 *   input   x[t][c] = 1 with probability `rate` (else 0), for every step t and channel c — one frozen pattern;
 *   target  y(t) = Σ_k a_k · sin(2π t / P_k + φ_k),   t = 0..T-1,   P = (1000, 500, 333, 200) steps,
 *           a_k ~ U(0.5, 2), φ_k ~ U(0, 2π).
 * The task is deterministic given `options.seed`: `sample(batchSize, seed)` repeats the same input and target in every
 * sequence and its `seed` argument changes nothing (it is validated, so the task stays a drop-in `Task`).
 */
import { Random, STREAMS } from '../random';
import * as validate from '../validate';
import type { Batch } from '../types';
import type { Task } from './task';

export interface PatternGenerationOptions {
  /** Steps per sequence (default 1000). */
  steps?: number;
  /** Seed of the frozen input pattern and of the target's amplitudes and phases (default 0). */
  seed?: number;
  /** Number of input channels (default 20). */
  inputs?: number;
  /** Probability that a channel is 1 at a step (default 0.05). */
  rate?: number;
}

/** The sinusoids whose sum is the target (SPEC §5). */
export interface PatternComponents {
  /** In steps: 1000, 500, 333, 200. */
  periods: Float64Array;
  /** U(0.5, 2) each. */
  amplitudes: Float64Array;
  /** U(0, 2π) each, in radians. */
  phases: Float64Array;
}

export interface PatternGenerationTask extends Task {
  /** The frozen input pattern, [steps][inputs], values 0 or 1. */
  readonly input: Float32Array;
  /** The target waveform, [steps]. */
  readonly target: Float32Array;
  readonly components: PatternComponents;
  /** `options.seed`, the only source of randomness of this task. */
  readonly seed: number;
}

export const PATTERN_PERIODS = [1000, 500, 333, 200] as const;

/** Largest batchSize × steps × inputs: what a typed array and the addon index. */
const MAX_ELEMENTS = 2 ** 31 - 1;

export function patternGeneration(options: PatternGenerationOptions = {}): PatternGenerationTask {
  const o = validate.plainObject(options, 'options');
  validate.knownKeys(o, 'options', ['steps', 'seed', 'inputs', 'rate']);
  const steps = o.steps === undefined ? 1000 : validate.integer(o.steps, 'options.steps', 1, 10_000_000);
  const seed = o.seed === undefined ? 0 : validate.integer(o.seed, 'options.seed', 0);
  const inputs = o.inputs === undefined ? 20 : validate.integer(o.inputs, 'options.inputs', 1, 10_000);
  const rate = o.rate === undefined ? 0.05 : validate.numberInRange(o.rate, 'options.rate', 0, 1, 'a number between 0 and 1');
  if (steps * inputs > MAX_ELEMENTS) {
    validate.fail(`steps × inputs ≤ ${MAX_ELEMENTS}`, 'options', `${steps} × ${inputs}`, true);
  }

  const input = new Float32Array(steps * inputs);
  const frozen = new Random(seed, STREAMS.taskFrozen);
  for (let i = 0; i < input.length; i++) input[i] = frozen.uniform() < rate ? 1 : 0;

  const draw = new Random(seed, STREAMS.taskTarget);
  const n = PATTERN_PERIODS.length;
  const components: PatternComponents = {
    periods: Float64Array.from(PATTERN_PERIODS),
    amplitudes: new Float64Array(n),
    phases: new Float64Array(n),
  };
  for (let k = 0; k < n; k++) {
    components.amplitudes[k] = 0.5 + 1.5 * draw.uniform();
    components.phases[k] = 2 * Math.PI * draw.uniform();
  }
  const target = new Float32Array(steps);
  for (let t = 0; t < steps; t++) {
    let y = 0;
    for (let k = 0; k < n; k++) {
      y += components.amplitudes[k] * Math.sin((2 * Math.PI * t) / components.periods[k] + components.phases[k]);
    }
    target[t] = y;
  }

  return {
    name: 'pattern-generation',
    nIn: inputs,
    nOut: 1,
    loss: 'mse',
    metric: 'nmse',
    steps,
    input,
    target,
    components,
    seed,
    sample(batchSize: number, sampleSeed: number): Batch {
      validate.integer(batchSize, 'batchSize', 1, 1_000_000);
      validate.integer(sampleSeed, 'seed', 0);
      if (batchSize * steps * inputs > MAX_ELEMENTS) {
        validate.fail(`batchSize × steps × inputs ≤ ${MAX_ELEMENTS}`, 'batchSize', `${batchSize} × ${steps} × ${inputs}`, true);
      }
      // Fresh copies, so a caller that edits one batch cannot change the task.
      const x = new Float32Array(batchSize * steps * inputs);
      const targets = new Float32Array(batchSize * steps);
      for (let b = 0; b < batchSize; b++) {
        x.set(input, b * steps * inputs);
        targets.set(target, b * steps);
      }
      return { x, batchSize, steps, targets };
    },
  };
}
