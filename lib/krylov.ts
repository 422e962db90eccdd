/**
 * One Arnoldi cycle of lib/spectralRadius.ts: the O(n²·m) matrix–vector products and Gram–Schmidt sweeps, in the
 * native addon when it loads (rows split over the pool, the event loop free with `krylovCycleAsync`) and otherwise
 * here. Both give the same bits (test/unit/spectralRadiusNative.test.ts): each matrix row is summed with four partial
 * sums over k mod 4 combined as s0 + s1 + (s2 + s3), dot products in one accumulator in index order, and the native
 * build has FMA contraction off. The matrix may be float32 (`float32Radius`): half the memory the products stream.
 * MODPROP_BACKEND=reference selects this file's loop.
 */
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { loadAddon } from './native/addon';
import { threadsFor } from './threads';

/**
 * Extends an Arnoldi relation from `from` to m vectors. basis: (m+1)×n with rows 0..from orthonormal (row `from` the
 * next vector to expand); h: (m+1)×m with columns < from set and the rest zero. Returns the basis size (m, or j + 1
 * when β_{j+1} ≤ breakdown: an invariant subspace).
 */
export type KrylovCycle = (a: Float64Array | Float32Array, n: number, m: number, from: number, basis: Float64Array, h: Float64Array, breakdown: number) => number;
type NativeCycle = (a: Float64Array | Float32Array, n: number, m: number, from: number, basis: Float64Array, h: Float64Array, breakdown: number, threads: number) => number;
type NativeCycleAsync = (...args: Parameters<NativeCycle>) => Promise<number>;
type NativeRestart = (basis: Float64Array, q: Float64Array, n: number, m: number, k: number) => void;
type NativeEigen = (a: Float64Array, n: number, re: Float64Array, im: Float64Array, vectors: Float64Array) => boolean;
interface NativeKrylov {
  sync: NativeCycle;
  async: NativeCycleAsync;
  restart: NativeRestart;
  eigen: NativeEigen;
}

let native: NativeKrylov | null | undefined;

function nativeCycle(): NativeKrylov | null {
  if (native !== undefined) return native;
  native = null;
  if (process.env.MODPROP_BACKEND === 'reference') return native;
  const loaded = loadAddon();
  if (!('addon' in loaded)) return native;
  const a = loaded.addon as unknown as {
    krylovCycle?: NativeCycle; krylovCycleAsync?: NativeCycleAsync; krylovRestart?: NativeRestart; nonsymmetricEigen?: NativeEigen;
  };
  if (typeof a.krylovCycle === 'function' && typeof a.krylovCycleAsync === 'function' && typeof a.krylovRestart === 'function' &&
    typeof a.nonsymmetricEigen === 'function') {
    native = { sync: a.krylovCycle, async: a.krylovCycleAsync, restart: a.krylovRestart, eigen: a.nonsymmetricEigen };
  }
  return native;
}

/** Which implementation `krylovCycle` uses in this process. */
export function krylovEngine(): 'native' | 'reference' {
  return nativeCycle() ? 'native' : 'reference';
}

export const krylovCycle: KrylovCycle = (a, n, m, from, basis, h, breakdown) => {
  const cycle = nativeCycle();
  return cycle ? cycle.sync(a, n, m, from, basis, h, breakdown, threadsFor(undefined)) : krylovCycleReference(a, n, m, from, basis, h, breakdown);
};

/** `krylovCycle` on a libuv worker thread (native), or inline (reference). The arrays must not change meanwhile. */
export function krylovCycleAsync(...args: Parameters<KrylovCycle>): Promise<number> {
  const cycle = nativeCycle();
  try {
    return cycle ? cycle.async(...args, threadsFor(undefined)) : Promise.resolve(krylovCycleReference(...args));
  } catch (err) {
    return Promise.reject(err);
  }
}

// Four partial sums: the loop is bound by the dependency on one accumulator otherwise.
// A Float32Array matrix is read as float and widened to double, as the native float overload does.
function matvec(a: Float64Array | Float32Array, n: number, x: Float64Array, out: Float64Array): void {
  const n4 = n - (n % 4);
  for (let i = 0; i < n; i++) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    const row = i * n;
    let k = 0;
    for (; k < n4; k += 4) {
      s0 += a[row + k] * x[k];
      s1 += a[row + k + 1] * x[k + 1];
      s2 += a[row + k + 2] * x[k + 2];
      s3 += a[row + k + 3] * x[k + 3];
    }
    for (; k < n; k++) s0 += a[row + k] * x[k];
    out[i] = s0 + s1 + (s2 + s3);
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export const krylovCycleReference: KrylovCycle = (a, n, m, from, basis, h, breakdown) => {
  const row = (i: number): Float64Array => basis.subarray(i * n, (i + 1) * n);
  for (let j = from; j < m; j++) {
    const w = row(j + 1);
    matvec(a, n, row(j), w);
    // Gram–Schmidt twice: once is not enough to keep the basis orthogonal in floating point.
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i <= j; i++) {
        const v = row(i);
        const c = dot(w, v);
        h[i * m + j] += c;
        for (let k = 0; k < n; k++) w[k] -= c * v[k];
      }
    }
    const beta = Math.sqrt(dot(w, w));
    h[(j + 1) * m + j] = beta;
    if (beta <= breakdown) return j + 1;
    for (let k = 0; k < n; k++) w[k] /= beta;
  }
  return m;
};

/**
 * The thick restart's basis update, in place: basis ((m+1)×n) ← [V·Q, v_{m+1}] with V its first m rows and Q (k×m,
 * row c the coefficients of kept vector c); row c sums q[c][r]·v_r over r in order, entry by entry. Native when the
 * addon loads (7.4 M multiply-adds per restart at n = 4096: 0.2 s of JavaScript over a run), the same bits either way.
 */
export function krylovRestart(basis: Float64Array, q: Float64Array, n: number, m: number, k: number): void {
  const cycle = nativeCycle();
  if (cycle) cycle.restart(basis, q, n, m, k);
  else krylovRestartReference(basis, q, n, m, k);
}

export function krylovRestartReference(basis: Float64Array, q: Float64Array, n: number, m: number, k: number): void {
  const kept = new Float64Array(k * n);
  for (let c = 0; c < k; c++) {
    const out = c * n;
    for (let r = 0; r < m; r++) {
      const coef = q[c * m + r];
      const v = r * n;
      for (let i = 0; i < n; i++) kept[out + i] += coef * basis[v + i];
    }
  }
  basis.copyWithin(k * n, m * n, (m + 1) * n);
  basis.set(kept);
}

/** Eigenvalues (real and imaginary parts) and eigenvectors (n×n row-major, columns as ml-matrix lays them out). */
export interface Eigen {
  re: Float64Array;
  im: Float64Array;
  vectors: Float64Array;
}

// The native decomposition serves n up to this (it runs on the calling thread; the Arnoldi iteration needs 60).
const NATIVE_EIGEN_MAX = 512;

/**
 * The eigendecomposition of a dense n×n row-major matrix, with ml-matrix's EigenvalueDecomposition bits: natively
 * (native/core/hessenberg_eigen.h, an operation-for-operation port of its nonsymmetric path, 10–20× faster on the
 * Arnoldi iteration's 60×60 matrices) when the addon loads and the matrix is not exactly symmetric, else ml-matrix.
 */
export function eigenDecomposition(a: Float64Array, n: number): Eigen {
  const cycle = nativeCycle();
  if (cycle && n <= NATIVE_EIGEN_MAX) {
    const out = { re: new Float64Array(n), im: new Float64Array(n), vectors: new Float64Array(n * n) };
    if (cycle.eigen(a, n, out.re, out.im, out.vectors)) return out;
  }
  return eigenDecompositionReference(a, n);
}

export function eigenDecompositionReference(a: Float64Array, n: number): Eigen {
  const m = new Matrix(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m.set(i, j, a[i * n + j]);
  const eig = new EigenvalueDecomposition(m, { assumeSymmetric: false });
  return { re: Float64Array.from(eig.realEigenvalues), im: Float64Array.from(eig.imaginaryEigenvalues), vectors: Float64Array.from(eig.eigenvectorMatrix.to1DArray()) };
}

/** For tests: choose again on next use (after changing MODPROP_BACKEND). */
export function resetKrylovForTests(): void {
  native = undefined;
}
