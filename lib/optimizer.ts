/**
 * Optimizers and the constraints applied after every step (SPEC §1, issue "Training"): Adam (β1 0.9, β2 0.999,
 * ε 1e-8) or SGD on Win, Wrec, Wout and bout; L2 adds l2·W to the gradients of the three weight matrices; after the
 * step a weight whose sign would break Dale's law becomes 0 and the diagonal of Wrec stays 0.
 */
import type { Params } from './types';

export const PARAM_KEYS = ['win', 'wrec', 'wout', 'bout'] as const;
export type ParamKey = (typeof PARAM_KEYS)[number];

export interface OptimizerState {
  kind: 'adam' | 'sgd';
  /** Steps taken so far. */
  step: number;
  /** Adam's first and second moment estimates (float64), absent for SGD. */
  m?: Record<ParamKey, Float64Array>;
  v?: Record<ParamKey, Float64Array>;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

export function createOptimizer(kind: 'adam' | 'sgd', params: Params): OptimizerState {
  if (kind === 'sgd') return { kind, step: 0 };
  const zeros = (): Record<ParamKey, Float64Array> =>
    Object.fromEntries(PARAM_KEYS.map((k) => [k, new Float64Array(params[k].length)])) as Record<ParamKey, Float64Array>;
  return { kind, step: 0, m: zeros(), v: zeros() };
}

/** Adds l2·W to the gradients of Win, Wrec and Wout (not bout), in place. */
export function addL2(grads: Params, params: Params, l2: number): void {
  if (l2 === 0) return;
  for (const k of ['win', 'wrec', 'wout'] as const) {
    const g = grads[k];
    const w = params[k];
    for (let i = 0; i < g.length; i++) g[i] += l2 * w[i];
  }
}

/** One optimizer step on `params` in place. */
export function step(state: OptimizerState, params: Params, grads: Params, lr: number): void {
  state.step += 1;
  if (state.kind === 'sgd') {
    for (const k of PARAM_KEYS) {
      const w = params[k];
      const g = grads[k];
      for (let i = 0; i < w.length; i++) w[i] -= lr * g[i];
    }
    return;
  }
  const { c1, c2 } = biasCorrections(state.step);
  for (const k of PARAM_KEYS) {
    const w = params[k];
    const g = grads[k];
    const m = state.m![k];
    const v = state.v![k];
    for (let i = 0; i < w.length; i++) {
      m[i] = BETA1 * m[i] + (1 - BETA1) * g[i];
      v[i] = BETA2 * v[i] + (1 - BETA2) * g[i] * g[i];
      w[i] -= (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + EPSILON);
    }
  }
}

/**
 * Adam's bias corrections 1 − β1^t and 1 − β2^t, computed here only: the native step (native/core/optimizer.cc)
 * takes them as arguments, since Math.pow and std::pow may differ in the last bit.
 */
export function biasCorrections(step: number): { c1: number; c2: number } {
  return { c1: 1 - BETA1 ** step, c2: 1 - BETA2 ** step };
}

/** Dale's law (a weight whose sign flipped becomes 0) and the zero diagonal, in place. */
export function project(params: Params, types: Int32Array, typeSigns: Int8Array | null, nOut: number): void {
  const n = types.length;
  const { wrec, wout } = params;
  for (let i = 0; i < n; i++) wrec[i * n + i] = 0;
  if (!typeSigns) return;
  for (let p = 0; p < n; p++) {
    const s = typeSigns[types[p]];
    for (let j = 0; j < n; j++) if (wrec[p * n + j] * s < 0) wrec[p * n + j] = 0;
    for (let k = 0; k < nOut; k++) if (wout[p * nOut + k] * s < 0) wout[p * nOut + k] = 0;
  }
}
