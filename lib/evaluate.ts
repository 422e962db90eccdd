/** Metrics of a network's outputs on a batch: the loss of SPEC §2, accuracy (xent-last) and normalised MSE (mse). */
import type { LossName } from './contract';
import type { Batch } from './types';

export interface Metrics {
  loss: number;
  accuracy?: number;
  nmse?: number;
}

/** `y` is [B][T][K] from `forward`. */
export function metricsOf(y: Float32Array, batch: Batch, nOut: number, loss: LossName): Metrics {
  const { batchSize: B, steps: T } = batch;
  if (loss === 'xent-last') {
    let total = 0;
    let correct = 0;
    for (let b = 0; b < B; b++) {
      const at = (b * T + T - 1) * nOut;
      let max = -Infinity;
      let arg = 0;
      for (let k = 0; k < nOut; k++) if (y[at + k] > max) { max = y[at + k]; arg = k; }
      let sum = 0;
      for (let k = 0; k < nOut; k++) sum += Math.exp(y[at + k] - max);
      const label = batch.labels![b];
      total += Math.log(sum) + max - y[at + label];
      if (arg === label) correct++;
    }
    return { loss: total / B, accuracy: correct / B };
  }
  const t = batch.targets!;
  let se = 0;
  let mean = 0;
  for (let i = 0; i < t.length; i++) mean += t[i];
  mean /= t.length;
  let variance = 0;
  for (let i = 0; i < t.length; i++) {
    se += (y[i] - t[i]) ** 2;
    variance += (t[i] - mean) ** 2;
  }
  // Constant targets have no variance to normalise by: NMSE is then left out rather than reported as NaN.
  return { loss: (0.5 * se) / (B * T), ...(variance > 0 ? { nmse: se / variance } : {}) };
}
