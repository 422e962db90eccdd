/** Shared test fixtures: small random float64 networks and batches where some units are active and some are not. */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { Random } from '../lib/random';
import assert from 'node:assert/strict';
import type { Data64, Model64, ReferenceRule, Result64 } from '../lib/reference/model';
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

/** Wrec with every type block summing to 0 (so the type-averaged feedback is exactly 0) but non-zero entries. */
export function zeroBlockMeans(m: Model64): Model64 {
  const n = m.nRec;
  const wrec = m.wrec.slice();
  for (let c = 0; c < m.nTypes; c++) {
    for (let e = 0; e < m.nTypes; e++) {
      let sum = 0;
      let count = 0;
      for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) {
        if (p !== j && m.types[p] === c && m.types[j] === e) { sum += wrec[p * n + j]; count++; }
      }
      for (let p = 0; p < n; p++) for (let j = 0; j < n; j++) {
        if (p !== j && m.types[p] === c && m.types[j] === e) wrec[p * n + j] -= sum / count;
      }
    }
  }
  return { ...m, wrec };
}

function maxError(a: Result64, b: Result64): number {
  return Math.max(...MATRICES.map((k) => relMaxError(a.grads[k], b.grads[k])), Math.abs(a.loss - b.loss) / Math.abs(b.loss));
}

/** Equal to 1e-9 relative (float64 identities), with non-trivial Win and Wrec gradients (norm above `minNorm`). */
export function assertSame(a: Result64, b: Result64, what: string, minNorm = 1e-8): void {
  const err = maxError(a, b);
  assert.ok(err < 1e-9, `${what}: max relative error ${err}`);
  for (const k of ['win', 'wrec'] as const) assert.ok(norm(b.grads[k]) > minNorm, `${what}: ${k} gradient is non-trivial`);
}

export function assertDiffer(a: Result64, b: Result64, what: string): void {
  const err = Math.max(relMaxError(a.grads.wrec, b.grads.wrec), relMaxError(a.grads.win, b.grads.win));
  assert.ok(err > 1e-4, `${what}: expected the rules to differ, but max relative difference is ${err}`);
}
