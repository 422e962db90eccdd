/** Shared test fixtures: small random float64 networks and batches where some units are active and some are not. */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Random } from '../lib/random';
import type { Data64, Model64, ReferenceRule } from '../lib/reference/model';
import type { LossName } from '../lib/contract';

export interface Fixture {
  nIn?: number;
  nRec?: number;
  nOut?: number;
  nTypes?: number;
  batchSize?: number;
  steps?: number;
  tau?: number;
  threshold?: number;
  loss?: LossName;
  seed: number;
}

export function randomModel(f: Fixture): Model64 {
  const { nIn = 3, nRec = 7, nOut = 2, nTypes = 2, tau = 5, threshold = 0 } = f;
  const rng = new Random(f.seed, 100);
  const normal = (n: number, sd: number): Float64Array => Float64Array.from({ length: n }, () => rng.normal() * sd);
  const wrec = normal(nRec * nRec, 1.2 / Math.sqrt(nRec));
  for (let i = 0; i < nRec; i++) wrec[i * nRec + i] = 0;
  const types = Int32Array.from({ length: nRec }, (_, i) => i % nTypes);
  return {
    nIn, nRec, nOut, nTypes, alpha: Math.exp(-1 / tau), threshold, types,
    win: normal(nIn * nRec, 1.5), wrec, wout: normal(nRec * nOut, 1), bout: normal(nOut, 0.3),
    randomFeedback: normal(nRec * nOut, 1 / Math.sqrt(nRec)),
  };
}

export function randomData(m: Model64, f: Fixture): Data64 {
  const { batchSize = 3, steps = 12, loss = 'xent-last' } = f;
  const rng = new Random(f.seed, 101);
  const x = Float64Array.from({ length: batchSize * steps * m.nIn }, () => rng.normal());
  const labels = Int32Array.from({ length: batchSize }, () => rng.int(m.nOut));
  const targets = Float64Array.from({ length: batchSize * steps * m.nOut }, () => rng.normal());
  return loss === 'xent-last' ? { batchSize, steps, loss, x, labels } : { batchSize, steps, loss, x, targets };
}

export function rule(r: Partial<ReferenceRule> & Pick<ReferenceRule, 'rule'>): ReferenceRule {
  return { feedback: 'type', mu: 0.25, online: false, window: 0, learningSignal: 'symmetric', ...r };
}

export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** max |a - b| / max(‖b‖∞, tiny): the error relative to the largest entry of the expected array. */
export function relMaxError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / Math.max(scale, 1e-300);
}

export const MATRICES = ['win', 'wrec', 'wout', 'bout'] as const;

/** Spectral radius of a row-major n×n matrix, from ml-matrix's eigenvalues (independent of the library's). */
export function spectralRadius(w: ArrayLike<number>, n: number): number {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, w[i * n + j]);
  const e = new EigenvalueDecomposition(m);
  let rho = 0;
  for (let k = 0; k < n; k++) rho = Math.max(rho, Math.hypot(e.realEigenvalues[k], e.imaginaryEigenvalues[k]));
  return rho;
}

export function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}
