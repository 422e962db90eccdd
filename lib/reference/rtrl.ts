/**
 * rtrl — real-time recurrent learning (SPEC §3): the exact gradient computed forward in time by carrying the
 * sensitivities J_t = dv_t/dθ for θ = (Win, Wrec):
 *   J_t = α J_{t-1} + (1-α) (∂(x_t@Win + z_{t-1}@Wrec)/∂θ + Wrecᵀ (relu'(v_{t-1} − thr) ⊙ J_{t-1}))
 *   dθ += ℓ_tᵀ J_t          (ℓ with the symmetric learning signal: the direct dE/dv_t)
 * O(N²·(I+N)) memory and O(N³·(I+N)) work per step: a reference-size oracle, equal to bptt.
 */
import { readout, step } from './forward';
import { accumulateReadout, learningSignal, outputError } from './loss';
import { clearDiagonal, zeroGrads, type Data64, type Model64, type Result64 } from './model';

export function rtrl(m: Model64, d: Data64): Result64 {
  const { nIn, nRec: n, nOut: k, alpha } = m;
  const leak = 1 - alpha;
  const nParams = nIn * n + n * n; // Win entries first, then Wrec, both row-major [pre][post]
  const grads = zeroGrads(m);
  const delta = new Float64Array(k);
  const ell = new Float64Array(n);
  const y = new Float64Array(k);
  let loss = 0;

  for (let b = 0; b < d.batchSize; b++) {
    let j = new Float64Array(n * nParams);
    let jNext = new Float64Array(n * nParams);
    const masked = new Float64Array(n * nParams);
    let v = new Float64Array(n);
    let z = new Float64Array(n);
    let vNew = new Float64Array(n);
    let zNew = new Float64Array(n);
    for (let t = 0; t < d.steps; t++) {
      const xAt = (b * d.steps + t) * nIn;
      step(m, d.x, xAt, t === 0 ? null : v, t === 0 ? null : z, 0, vNew, zNew, 0);

      // masked[m][q] = relu'(v_{t-1,m}) J_{t-1}[m][q]
      masked.fill(0);
      if (t > 0) {
        for (let u = 0; u < n; u++) {
          if (v[u] - m.threshold > 0) masked.set(j.subarray(u * nParams, (u + 1) * nParams), u * nParams);
        }
      }
      for (let i = 0; i < n; i++) {
        const row = jNext.subarray(i * nParams, (i + 1) * nParams);
        const prev = j.subarray(i * nParams, (i + 1) * nParams);
        for (let q = 0; q < nParams; q++) row[q] = alpha * prev[q];
        for (let u = 0; u < n; u++) {
          const w = leak * m.wrec[u * n + i];
          if (w === 0 || t === 0) continue;
          const src = masked.subarray(u * nParams, (u + 1) * nParams);
          for (let q = 0; q < nParams; q++) row[q] += w * src[q];
        }
        // direct terms: ∂v_i/∂Win[a][i] = (1-α) x_a,  ∂v_i/∂Wrec[p][i] = (1-α) z_{t-1,p}
        for (let a = 0; a < nIn; a++) row[a * n + i] += leak * d.x[xAt + a];
        if (t > 0) for (let p = 0; p < n; p++) row[nIn * n + p * n + i] += leak * z[p];
      }
      [j, jNext] = [jNext, j];
      [v, vNew] = [vNew, v];
      [z, zNew] = [zNew, z];

      readout(m, z, 0, y, 0);
      const part = outputError(m, d, b, t, y, 0, delta);
      if (part < 0) continue;
      loss += part;
      accumulateReadout(m, z, 0, delta, grads.wout, grads.bout);
      learningSignal(m, m.wout, delta, v, 0, ell, 0);
      for (let i = 0; i < n; i++) {
        if (ell[i] === 0) continue;
        const row = j.subarray(i * nParams, (i + 1) * nParams);
        for (let q = 0; q < nIn * n; q++) grads.win[q] += ell[i] * row[q];
        for (let q = 0; q < n * n; q++) grads.wrec[q] += ell[i] * row[nIn * n + q];
      }
    }
  }
  clearDiagonal(grads.wrec, n);
  return { loss, grads };
}
