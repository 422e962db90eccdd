/**
 * eprop, online (SPEC §4): forward in time, memory independent of T. Presynaptic traces
 *   ε_t = α ε_{t-1} + (1-α) z_{t-1}          ε^in_t = α ε^in_{t-1} + (1-α) x_t
 *   dWrec += ε_tᵀ ℓ_t                        dWin += ε^inᵀ_t ℓ_t            (every step where ℓ_t ≠ 0)
 * Equal to offline eprop. Other online rules are an OnlineRule on the same sweep, `onlineChunk` (as in
 * native/core/eprop_online.cc; here the whole batch is one chunk).
 */
import { readout, step } from './forward';
import { accumulateReadout, learningSignal, outputError } from './loss';
import { clearDiagonal, feedbackOf, zeroGrads, type Data64, type Grads64, type Model64, type ReferenceRule, type Result64 } from './model';

/** Per-sequence hooks of an online rule: `advance` runs before the traces move to step t, `credit` when ℓ_t ≠ 0. */
export interface OnlineHooks {
  /** Called with the traces ε_{t-1}, ε^in_{t-1} before they are updated to step t. */
  advance?(eps: Float64Array, epsIn: Float64Array): void;
  /** Called after the network step t with v_t, z_{t-1} (zeros at t = 0) and x_t (at xAt in x). */
  step?(v: Float64Array, zPrev: Float64Array, x: ArrayLike<number>, xAt: number): void;
  /** Called with ε_t, ε^in_t, ℓ_t and δ_t at the steps where the learning signal is not zero. */
  credit(eps: Float64Array, epsIn: Float64Array, ell: Float64Array, delta: Float64Array): void;
  /** Called once at the end of the sequence to add what the hooks accumulated. */
  finish(grads: Grads64): void;
}

/** An online rule (native/core/rules.h OnlineRule is the same interface). */
export interface OnlineRule {
  /** Whether the sweep adds e-prop's Σ_t ε_t ⊗ ℓ_t (eprop, modprop build on it); false for rules with their own traces (rflo). */
  eligibility: boolean;
  /** The hooks of sequence b, or null when the rule needs none. */
  sequence(b: number): OnlineHooks | null;
}

export function onlineChunk(m: Model64, d: Data64, rule: ReferenceRule, online: OnlineRule): Result64 {
  const { nIn, nRec: n, nOut: k, alpha } = m;
  const leak = 1 - alpha;
  const grads = zeroGrads(m);
  const f = feedbackOf(m, rule);
  const delta = new Float64Array(k);
  const ell = new Float64Array(n);
  const y = new Float64Array(k);
  let loss = 0;
  for (let b = 0; b < d.batchSize; b++) {
    const h = online.sequence(b);
    const eps = new Float64Array(n);
    const epsIn = new Float64Array(nIn);
    let v = new Float64Array(n);
    let z = new Float64Array(n);
    let vNew = new Float64Array(n);
    let zNew = new Float64Array(n);
    for (let t = 0; t < d.steps; t++) {
      const xAt = (b * d.steps + t) * nIn;
      h?.advance?.(eps, epsIn);
      for (let p = 0; p < n; p++) eps[p] = alpha * eps[p] + leak * z[p]; // z holds z_{t-1} (0 at t = 0)
      for (let a = 0; a < nIn; a++) epsIn[a] = alpha * epsIn[a] + leak * d.x[xAt + a];
      step(m, d.x, xAt, t === 0 ? null : v, t === 0 ? null : z, 0, vNew, zNew, 0);
      h?.step?.(vNew, z, d.x, xAt);
      [v, vNew] = [vNew, v];
      [z, zNew] = [zNew, z];
      readout(m, z, 0, y, 0);
      const part = outputError(m, d, b, t, y, 0, delta);
      if (part < 0) continue;
      loss += part;
      accumulateReadout(m, z, 0, delta, grads.wout, grads.bout);
      learningSignal(m, f, delta, v, 0, ell, 0);
      if (online.eligibility) {
        for (let a = 0; a < nIn; a++) if (epsIn[a] !== 0) for (let j = 0; j < n; j++) grads.win[a * n + j] += epsIn[a] * ell[j];
        for (let p = 0; p < n; p++) if (eps[p] !== 0) for (let j = 0; j < n; j++) grads.wrec[p * n + j] += eps[p] * ell[j];
      }
      h?.credit(eps, epsIn, ell, delta);
    }
    h?.finish(grads);
  }
  clearDiagonal(grads.wrec, n);
  return { loss, grads };
}

export function epropOnline(m: Model64, d: Data64, rule: ReferenceRule): Result64 {
  return onlineChunk(m, d, rule, { eligibility: true, sequence: () => null });
}
