/**
 * rtrl on a spiking network: the surrogate gradient of spiking/reverse.ts computed forward in time, the oracle that
 * spiking bptt is tested against (finite differences do not exist for spikes). For θ = (Win, Wrec), with
 * S_t = dz_t/dθ = ψ_t ⊙ (J^v_t − β J^a_t) (the reset detached, as in lib/neurons/lif.ts):
 *   J^v_t = α J^v_{t-1} + (1-α) (∂(x_t@Win + z_{t-1}@Wrec)/∂θ + Wrecᵀ S_{t-1})      J^a_t = ρ J^a_{t-1} + S_{t-1}
 *   H_t = κ H_{t-1} + S_t   (dẑ_t/dθ)          dθ += (δ_t @ Woutᵀ) H_t
 * O(N²·(I+N)) memory: reference sizes only.
 */
import { accumulateReadout, outputError } from '../loss';
import { clearDiagonal, zeroGrads, type Data64, type Model64, type Result64 } from '../model';
import { feedbackSignal, spikingSweep } from './forward';

export function spikingRtrl(m: Model64, d: Data64): Result64 {
  const { nIn, nRec: n, nOut: k, alpha } = m;
  const { rho, beta, kappa } = m.neuron!;
  const leak = 1 - alpha;
  const nParams = nIn * n + n * n; // Win entries first, then Wrec, both row-major [pre][post]
  const grads = zeroGrads(m);
  const delta = new Float64Array(k);
  const signal = new Float64Array(n);
  let loss = 0;

  for (let b = 0; b < d.batchSize; b++) {
    const jv = new Float64Array(n * nParams);
    const ja = new Float64Array(n * nParams);
    const h = new Float64Array(n * nParams);
    let sens = new Float64Array(n * nParams); // S_{t-1}
    let sensNext = new Float64Array(n * nParams);
    const zPrev = new Float64Array(n);
    spikingSweep(m, d.x, b, d.steps, (t, state, psi, zOut, y) => {
      const xAt = (b * d.steps + t) * nIn;
      for (let i = 0; i < n; i++) {
        const rv = jv.subarray(i * nParams, (i + 1) * nParams);
        const ra = ja.subarray(i * nParams, (i + 1) * nParams);
        const own = sens.subarray(i * nParams, (i + 1) * nParams);
        for (let q = 0; q < nParams; q++) {
          rv[q] *= alpha;
          ra[q] = rho * ra[q] + own[q];
        }
        for (let p = 0; p < n; p++) {
          const w = leak * m.wrec[p * n + i];
          if (w === 0) continue;
          const src = sens.subarray(p * nParams, (p + 1) * nParams);
          for (let q = 0; q < nParams; q++) rv[q] += w * src[q];
        }
        for (let a = 0; a < nIn; a++) rv[a * n + i] += leak * d.x[xAt + a];
        for (let p = 0; p < n; p++) rv[nIn * n + p * n + i] += leak * zPrev[p];
        const out = sensNext.subarray(i * nParams, (i + 1) * nParams);
        const hi = h.subarray(i * nParams, (i + 1) * nParams);
        for (let q = 0; q < nParams; q++) {
          out[q] = psi[i] * (rv[q] - beta * ra[q]);
          hi[q] = kappa * hi[q] + out[q];
        }
      }
      [sens, sensNext] = [sensNext, sens];
      zPrev.set(state.z);
      const part = outputError(m, d, b, t, y, 0, delta);
      if (part < 0) return;
      loss += part;
      accumulateReadout(m, zOut, 0, delta, grads.wout, grads.bout);
      feedbackSignal(m.wout, delta, n, k, signal);
      for (let i = 0; i < n; i++) {
        const c = signal[i];
        if (c === 0) continue;
        const hi = h.subarray(i * nParams, (i + 1) * nParams);
        for (let q = 0; q < nIn * n; q++) grads.win[q] += c * hi[q];
        for (let q = 0; q < n * n; q++) grads.wrec[q] += c * hi[nIn * n + q];
      }
    });
  }
  clearDiagonal(grads.wrec, n);
  return { loss, grads };
}
