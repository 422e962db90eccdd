/**
 * SPEC §2: losses, the output error δ_t = ∂E/∂y_t, and the learning signal ℓ_t = relu'(v_t − thr) ⊙ (δ_t @ Fᵀ).
 *   xent-last: softmax cross-entropy of y_T, averaged over the batch; δ_T = (softmax(y_T) − onehot)/B, else 0.
 *   mse:       0.5 · mean over (batch, step) of Σ_k (y − target)²; δ_t = (y_t − target_t)/(B·T).
 */
import type { Data64, Model64 } from './model';

/**
 * Writes δ_t of sequence b (0-based step t) into delta[0..K) and returns this step's share of the loss.
 * Returns -1 in place of a loss when δ_t is identically zero (so callers can skip work).
 */
export function outputError(m: Model64, d: Data64, b: number, t: number, y: ArrayLike<number>, yAt: number, delta: Float64Array): number {
  const k = m.nOut;
  if (d.loss === 'xent-last') {
    if (t !== d.steps - 1) return -1;
    let max = -Infinity;
    for (let o = 0; o < k; o++) max = Math.max(max, y[yAt + o]);
    let sum = 0;
    for (let o = 0; o < k; o++) sum += Math.exp(y[yAt + o] - max);
    const label = d.labels![b];
    for (let o = 0; o < k; o++) delta[o] = (Math.exp(y[yAt + o] - max) / sum - (o === label ? 1 : 0)) / d.batchSize;
    return (Math.log(sum) + max - y[yAt + label]) / d.batchSize;
  }
  const scale = 1 / (d.batchSize * d.steps);
  const tAt = (b * d.steps + t) * k;
  let loss = 0;
  for (let o = 0; o < k; o++) {
    const e = y[yAt + o] - d.targets![tAt + o];
    delta[o] = e * scale;
    loss += 0.5 * e * e * scale;
  }
  return loss;
}

/** ℓ = relu'(v − thr) ⊙ (δ @ Fᵀ) into ell at ellAt; F is nRec × nOut. */
export function learningSignal(m: Model64, f: Float64Array, delta: Float64Array, v: ArrayLike<number>, vAt: number, ell: Float64Array, ellAt: number): void {
  const { nRec: n, nOut: k } = m;
  for (let i = 0; i < n; i++) {
    if (!(v[vAt + i] - m.threshold > 0)) {
      ell[ellAt + i] = 0;
      continue;
    }
    let s = 0;
    for (let o = 0; o < k; o++) s += delta[o] * f[i * k + o];
    ell[ellAt + i] = s;
  }
}

/** dWout += z_t ⊗ δ_t, dbout += δ_t. */
export function accumulateReadout(m: Model64, z: ArrayLike<number>, zAt: number, delta: Float64Array, dWout: Float64Array, dbout: Float64Array): void {
  const { nRec: n, nOut: k } = m;
  for (let o = 0; o < k; o++) dbout[o] += delta[o];
  for (let p = 0; p < n; p++) {
    const zp = z[zAt + p];
    if (zp === 0) continue;
    for (let o = 0; o < k; o++) dWout[p * k + o] += zp * delta[o];
  }
}
