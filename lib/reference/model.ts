/**
 * Float64 views of a network and a batch for the reference engine. Tests build these directly (e.g. with
 * float64 weights for finite differences); the public API builds them from a `Network` and a `Batch`.
 */
import type { LossName } from '../contract';
import type { Batch } from '../types';
import type { NormalizedRule } from '../validate';
import { spikingConstants, type SpikingConstants, type SpikingNeuron } from '../neurons/neuron';

export interface Model64 {
  nIn: number;
  nRec: number;
  nOut: number;
  nTypes: number;
  alpha: number;
  threshold: number;
  types: Int32Array;
  win: Float64Array;
  wrec: Float64Array;
  wout: Float64Array;
  bout: Float64Array;
  randomFeedback: Float64Array;
  /** A spiking neuron's constants (lib/neurons); absent for the rate unit. `alpha` is then its membrane decay. */
  neuron?: SpikingConstants;
}

export interface Data64 {
  batchSize: number;
  steps: number;
  loss: LossName;
  x: Float64Array;
  labels?: Int32Array;
  targets?: Float64Array;
}

export interface Grads64 {
  win: Float64Array;
  wrec: Float64Array;
  wout: Float64Array;
  bout: Float64Array;
}

export interface Result64 {
  loss: number;
  grads: Grads64;
}

/** A rule as the reference engine runs it. `exactDerivative` is internal: ModProp with μ replaced by relu'. */
export interface ReferenceRule extends NormalizedRule {
  exactDerivative?: boolean;
}

/** What the reference engine needs from a network (structurally satisfied by `Network`). */
export interface NetworkLike {
  readonly nIn: number;
  readonly nRec: number;
  readonly nOut: number;
  readonly nTypes: number;
  readonly alpha: number;
  readonly types: Int32Array;
  readonly randomFeedback: Float32Array;
  readonly config: { readonly threshold: number; readonly dt?: number; readonly neuron?: SpikingNeuron; readonly connectivity?: number };
  readonly params: { win: Float32Array; wrec: Float32Array; wout: Float32Array; bout: Float32Array };
  /** Sparse connectivity's mask (lib/connectivity.ts); absent or null for a dense network. */
  readonly mask?: Uint8Array | null;
}

export function modelOf(net: NetworkLike): Model64 {
  const p = net.params;
  return {
    nIn: net.nIn, nRec: net.nRec, nOut: net.nOut, nTypes: net.nTypes, alpha: net.alpha,
    threshold: net.config.threshold, types: net.types,
    win: Float64Array.from(p.win), wrec: Float64Array.from(p.wrec), wout: Float64Array.from(p.wout),
    bout: Float64Array.from(p.bout), randomFeedback: Float64Array.from(net.randomFeedback),
    ...(net.config.neuron ? { neuron: spikingConstants(net.config.neuron, net.config.dt ?? 1) } : {}),
  };
}

export function dataOf(batch: Batch, loss: LossName): Data64 {
  return {
    batchSize: batch.batchSize, steps: batch.steps, loss, x: Float64Array.from(batch.x),
    labels: batch.labels, targets: batch.targets ? Float64Array.from(batch.targets) : undefined,
  };
}

export function zeroGrads(m: Model64): Grads64 {
  return {
    win: new Float64Array(m.nIn * m.nRec), wrec: new Float64Array(m.nRec * m.nRec),
    wout: new Float64Array(m.nRec * m.nOut), bout: new Float64Array(m.nOut),
  };
}

/** Self-connections do not exist, so neither does their gradient. */
export function clearDiagonal(wrec: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) wrec[i * n + i] = 0;
}

/** The matrix F that feeds output errors back to the units (SPEC §2). */
export function feedbackOf(m: Model64, rule: NormalizedRule): Float64Array {
  return rule.learningSignal === 'random' ? m.randomFeedback : m.wout;
}
